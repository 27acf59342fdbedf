package io.bowline.core.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * A monotonically increasing Envoy counter. Safe to increment from any event loop. Its name is kept as a shared
 * scope prefix and a shared last segment (a mesh-sized config has hundreds of thousands of counters: whole names
 * would cost ~80 bytes each), and it is its own adder (one object per counter, not two).
 */
public final class Counter extends LongAdder {
  private final String prefix;
  private final String suffix;

  Counter(String prefix, String suffix) {
    this.prefix = prefix;
    this.suffix = suffix;
  }

  public void inc() {
    increment();
  }

  public long value() {
    return sum();
  }

  public String name() {
    return prefix + suffix;
  }

  /** Envoy's "used": incremented at least once. */
  public boolean used() {
    return sum() != 0;
  }
}
