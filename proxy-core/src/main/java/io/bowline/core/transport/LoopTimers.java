package io.bowline.core.transport;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Per-request timeouts on one event loop, armed and cancelled in constant time. Nearly every proxied request arms a
 * timeout (the route's 15 s by default) and cancels it microseconds later; as a Netty scheduled task that is a task
 * object, a lambda, and an insertion into and removal from the loop's priority queue each time (~0.3 µs a request
 * in the profile). Timers of the same duration expire in the order they were armed, so each duration keeps a plain
 * FIFO list and one Netty task for its earliest deadline — the shape of Envoy's scaled-range timer queues. Cancelling
 * unlinks; the task fires at most once per duration's deadline, expires what is due and re-arms for the new head.
 *
 * <p>A loop keeps at most {@link #MAX_QUEUES} durations in lists at once (a client can choose its timeout with
 * {@code x-envoy-upstream-rq-timeout-ms}); a timer of another duration falls back to its own Netty task. Everything
 * here runs on the loop's thread.
 */
public final class LoopTimers {
  static final int MAX_QUEUES = 16;

  private static final FastThreadLocal<LoopTimers> CURRENT = new FastThreadLocal<>();

  /**
   * A timer owned by one stream, re-armable after it fired or was cancelled. Subclasses say what expiry does;
   * {@link #expire} runs on the loop, after the timer has been disarmed.
   */
  public abstract static class Timer implements Runnable {
    private @Nullable Queue queue;
    private @Nullable Timer prev;
    private @Nullable Timer next;
    private long deadline;
    private @Nullable ScheduledFuture<?> fallback;

    protected abstract void expire();

    public final boolean armed() {
      return queue != null || fallback != null;
    }

    /**
     * Arms this timer for {@code delayMs} from now, to expire on {@code loop}. Called off that loop's thread (which a
     * stream never does) it falls back to a Netty task, which is safe from anywhere.
     */
    public final void arm(EventLoop loop, long delayMs) {
      cancel();
      LoopTimers timers = of(loop);
      long delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMs);
      Queue q = timers == null ? null : timers.queueFor(delayNanos);
      if (q == null) {
        fallback = loop.schedule(this, delayMs, TimeUnit.MILLISECONDS);
        return;
      }
      q.append(this, LoopClock.nanoTime() + delayNanos);
    }

    /** Disarms this timer; a no-op when it is not armed. On the loop it was armed on. */
    public final void cancel() {
      Queue q = queue;
      if (q != null) {
        q.unlink(this);
        return;
      }
      ScheduledFuture<?> f = fallback;
      if (f != null) {
        fallback = null;
        f.cancel(false);
      }
    }

    /** The fallback task fired. */
    @Override
    public final void run() {
      fallback = null;
      expire();
    }
  }

  private final EventLoop loop;
  private final Queue[] queues = new Queue[MAX_QUEUES];
  private int size;

  private LoopTimers(EventLoop loop) {
    this.loop = loop;
  }

  /** {@code loop}'s timers when called on its thread, else null. */
  static @Nullable LoopTimers of(EventLoop loop) {
    LoopTimers t = CURRENT.get();
    if (t != null) {
      return t.loop == loop ? t : null;
    }
    if (!loop.inEventLoop()) {
      return null;
    }
    t = new LoopTimers(loop);
    CURRENT.set(t);
    return t;
  }

  /** The list for {@code delayNanos}, made when there is room; null when the loop already keeps too many. */
  private @Nullable Queue queueFor(long delayNanos) {
    for (int i = 0; i < size; i++) {
      if (queues[i].delayNanos == delayNanos) {
        return queues[i];
      }
    }
    for (int i = 0; i < size; i++) { // reuse an empty list whose task is not pending
      Queue q = queues[i];
      if (q.head == null && q.task == null) {
        q.delayNanos = delayNanos;
        return q;
      }
    }
    if (size == MAX_QUEUES) {
      return null;
    }
    Queue q = new Queue(this, delayNanos);
    queues[size++] = q;
    return q;
  }

  /** The number of durations kept in lists (tests). */
  int queues() {
    return size;
  }

  /** Timers of one duration, earliest deadline first, and the Netty task due at or before the head's deadline. */
  private static final class Queue implements Runnable {
    private final LoopTimers owner;
    long delayNanos;
    @Nullable Timer head;
    @Nullable Timer tail;
    /** Pending while the list is not empty (and perhaps a while after): due no later than the head. */
    @Nullable ScheduledFuture<?> task;
    /** Expiring: a timer armed from an expiry waits for the task this run schedules for the head. */
    private boolean running;

    Queue(LoopTimers owner, long delayNanos) {
      this.owner = owner;
      this.delayNanos = delayNanos;
    }

    void append(Timer t, long deadline) {
      t.queue = this;
      t.deadline = deadline;
      t.prev = tail;
      t.next = null;
      if (tail == null) {
        head = t;
      } else {
        tail.next = t;
      }
      tail = t;
      if (task == null && !running) {
        schedule(deadline);
      }
    }

    void unlink(Timer t) {
      Timer p = t.prev;
      Timer n = t.next;
      if (p == null) {
        head = n;
      } else {
        p.next = n;
      }
      if (n == null) {
        tail = p;
      } else {
        n.prev = p;
      }
      t.queue = null;
      t.prev = null;
      t.next = null;
    }

    private void schedule(long deadline) {
      task = owner.loop.schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Expires every timer that is due, then waits for the next head. */
    @Override
    public void run() {
      task = null;
      running = true;
      try {
        long now = System.nanoTime();
        Timer t;
        while ((t = head) != null && t.deadline - now <= 0) {
          unlink(t);
          t.expire(); // may arm or cancel timers, of this list too
        }
      } finally {
        running = false;
      }
      if (head != null) {
        schedule(head.deadline);
      }
    }
  }
}
