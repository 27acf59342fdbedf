package io.bowline.core.stats;

import java.util.concurrent.atomic.AtomicLong;

/** An Envoy gauge: a value that goes up and down (active connections, requests in flight). */
public final class Gauge {
  /** Every gauge {@code stats_matcher} rejects: changes nothing, reads 0, shown nowhere (see {@link Counter#NULL}). */
  static final Gauge NULL = new Gauge("", "", false);

  private final String prefix; // shared by the scope's stats
  private final String suffix;
  private final boolean kept;
  private final AtomicLong value = new AtomicLong();
  private volatile boolean used;

  Gauge(String prefix, String suffix) {
    this(prefix, suffix, true);
  }

  private Gauge(String prefix, String suffix, boolean kept) {
    this.prefix = prefix;
    this.suffix = suffix;
    this.kept = kept;
  }

  public void inc() {
    if (kept) {
      value.incrementAndGet();
      used = true;
    }
  }

  public void dec() {
    if (kept) {
      value.decrementAndGet();
    }
  }

  public void set(long v) {
    if (kept) {
      value.set(v);
      used = true;
    }
  }

  public long value() {
    return value.get();
  }

  public String name() {
    return prefix + suffix;
  }

  public boolean used() {
    return used;
  }
}
