package io.bowline.core.stats;

import java.util.concurrent.atomic.LongAdder;

/** A monotonically increasing Envoy counter. Safe to increment from any event loop. */
public final class Counter {
  private final String name;
  private final LongAdder value = new LongAdder();
  private volatile boolean used;

  Counter(String name) {
    this.name = name;
  }

  public void inc() {
    value.increment();
    if (!used) {
      used = true;
    }
  }

  public void add(long n) {
    value.add(n);
    if (!used) {
      used = true;
    }
  }

  public long value() {
    return value.sum();
  }

  public String name() {
    return name;
  }

  public boolean used() {
    return used;
  }
}
