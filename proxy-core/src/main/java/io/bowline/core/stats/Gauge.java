package io.bowline.core.stats;

import java.util.concurrent.atomic.AtomicLong;

/** An Envoy gauge: a value that goes up and down (active connections, requests in flight). */
public final class Gauge {
  private final String prefix; // shared by the scope's stats
  private final String suffix;
  private final AtomicLong value = new AtomicLong();
  private volatile boolean used;

  Gauge(String prefix, String suffix) {
    this.prefix = prefix;
    this.suffix = suffix;
  }

  public void inc() {
    value.incrementAndGet();
    used = true;
  }

  public void dec() {
    value.decrementAndGet();
  }

  public void set(long v) {
    value.set(v);
    used = true;
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
