package io.bowline.core.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * A monotonically increasing Envoy counter. Safe to increment from any event loop. It is its own adder (one object per
 * counter, not two) and carries no name: the scope table that holds it has the prefix and the last segment, shared by
 * every stat that has them (a mesh-sized config has hundreds of thousands of counters; after a 10,000-cluster push
 * they are the largest class on the heap, 32 bytes each).
 */
public final class Counter extends LongAdder {
  /**
   * What every stat {@code stats_matcher} rejects is, as in Envoy: it counts nothing, reads 0 and is shown nowhere,
   * and costs no memory of its own. Istio's bootstrap rejects all but a few of each cluster's stats.
   */
  static final Counter NULL = new Counter(false);

  private final boolean kept;

  Counter() {
    this(true);
  }

  private Counter(boolean kept) {
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

  /** Envoy's "used": incremented at least once. */
  public boolean used() {
    return sum() != 0;
  }
}
