package io.bowline.core.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * A monotonically increasing Envoy counter. Safe to increment from any event loop. Its name is kept as a shared
 * scope prefix and a shared last segment (a mesh-sized config has hundreds of thousands of counters: whole names
 * would cost ~80 bytes each), and it is its own adder (one object per counter, not two).
 */
public final class Counter extends LongAdder {
  /**
   * What every stat {@code stats_matcher} rejects is, as in Envoy: it counts nothing, reads 0 and is shown nowhere,
   * and costs no memory of its own. Istio's bootstrap rejects all but a few of each cluster's stats.
   */
  static final Counter NULL = new Counter("", "", false);

  private final String prefix;
  private final String suffix;
  private final boolean kept;

  Counter(String prefix, String suffix) {
    this(prefix, suffix, true);
  }

  private Counter(String prefix, String suffix, boolean kept) {
    this.prefix = prefix;
    this.suffix = suffix;
    this.kept = kept;
  }

  @Override
  public void add(long x) { // increment() adds through here too
    if (kept) {
      super.add(x);
    }
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
