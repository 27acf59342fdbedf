package io.bowline.core.stats;

import java.util.concurrent.atomic.AtomicLong;

/** An Envoy gauge: a value that goes up and down (active connections, requests in flight). */
public final class Gauge {
  private final String name;
  private final AtomicLong value = new AtomicLong();
  private volatile boolean used;

  Gauge(String name) {
    this.name = name;
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
    return name;
  }

  public boolean used() {
    return used;
  }
}
