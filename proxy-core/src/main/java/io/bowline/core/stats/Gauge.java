package io.bowline.core.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An Envoy gauge: a value that goes up and down (active connections, requests in flight). One object with its value
 * in a field of its own (not an {@code AtomicLong} beside it) and no name: its scope table has that (see
 * {@link Counter}).
 */
public final class Gauge {
  /** Every gauge {@code stats_matcher} rejects: changes nothing, reads 0, shown nowhere (see {@link Counter#NULL}). */
  static final Gauge NULL = new Gauge(false);
  private static final VarHandle VALUE;

  static {
    try {
      VALUE = MethodHandles.lookup().findVarHandle(Gauge.class, "value", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final boolean kept;
  private volatile long value;
  private volatile boolean used;

  Gauge() {
    this(true);
  }

  private Gauge(boolean kept) {
    this.kept = kept;
  }

  public void inc() {
    if (kept) {
      VALUE.getAndAdd(this, 1L);
      used = true;
    }
  }

  public void dec() {
    if (kept) {
      VALUE.getAndAdd(this, -1L);
    }
  }

  public void set(long v) {
    if (kept) {
      value = v;
      used = true;
    }
  }

  public long value() {
    return value;
  }

  public boolean used() {
    return used;
  }
}
