package io.bowline.core.transport;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * The monotonic clock as one inbound read event on an event loop sees it: read once when the event starts and
 * shared by everything the event does, where every timestamp of a proxied request (its start, activity, the
 * upstream's first byte, the end) used to read the system clock itself — ten reads a request, 60-70 ns each on this
 * kind of virtual machine. The time handed out is at most one event's processing old (microseconds); outside an
 * event (timers, other threads) {@link #nanoTime()} is {@link System#nanoTime()}. Envoy's dispatchers keep an
 * approximate time per loop iteration for the same reason.
 */
public final class LoopClock {
  private LoopClock() {}

  /** Per thread: the time the current read event started, or 0 outside one. */
  private static final FastThreadLocal<long[]> NOW = new FastThreadLocal<>() {
    @Override
    protected long[] initialValue() {
      return new long[1];
    }
  };

  /** Now, as the current read event started; the system clock outside an event. */
  public static long nanoTime() {
    long t = NOW.get()[0];
    return t != 0 ? t : System.nanoTime();
  }

  /** A read event starts: returns what {@link #exit} restores (events can nest: a read that writes and reads). */
  public static long enter() {
    long[] now = NOW.get();
    long previous = now[0];
    long t = System.nanoTime();
    now[0] = t != 0 ? t : 1; // 0 means "outside an event"
    return previous;
  }

  /** The read event ends (always, in a finally). */
  public static void exit(long previous) {
    NOW.get()[0] = previous;
  }
}
