package io.bowline.core.stats;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * An Envoy histogram in milliseconds with Envoy's default bucket bounds, cumulative like Prometheus. Recording is
 * one binary search and two atomic adds: cheap enough for every request.
 */
public final class Histogram {
  static final double[] BOUNDS = {
      0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

  private static final long[] BOUNDS_NANOS = new long[BOUNDS.length];

  static {
    for (int i = 0; i < BOUNDS.length; i++) {
      BOUNDS_NANOS[i] = (long) (BOUNDS[i] * 1_000_000);
    }
  }

  /** Every histogram {@code stats_matcher} rejects: records nothing, shown nowhere (see {@link Counter#NULL}). */
  static final Histogram NULL = new Histogram("");

  private final String name;
  private final AtomicLongArray buckets = new AtomicLongArray(BOUNDS.length + 1);
  private final LongAdder count = new LongAdder();
  private final LongAdder sumMicros = new LongAdder();

  Histogram(String name) {
    this.name = name;
  }

  public void recordNanos(long nanos) {
    if (this == NULL) {
      return;
    }
    int lo = 0; // most proxied requests land in the first buckets: a forward scan beats a binary search
    while (lo < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[lo]) {
      lo++;
    }
    buckets.incrementAndGet(lo);
    count.increment();
    sumMicros.add(nanos / 1000);
  }

  public String name() {
    return name;
  }

  public long count() {
    return count.sum();
  }

  public double sumMillis() {
    return sumMicros.sum() / 1000.0;
  }

  /** Cumulative count of samples at or below {@code BOUNDS[i]}; index BOUNDS.length is +Inf. */
  public long[] cumulative() {
    long[] out = new long[BOUNDS.length + 1];
    long running = 0;
    for (int i = 0; i < out.length; i++) {
      running += buckets.get(i);
      out[i] = running;
    }
    return out;
  }

  /** The q-quantile (0..1) estimated from the buckets as Envoy's admin text does, or NaN without samples. */
  public double quantile(double q) {
    long[] cum = cumulative();
    long total = cum[cum.length - 1];
    if (total == 0) {
      return Double.NaN;
    }
    long rank = (long) Math.ceil(q * total);
    for (int i = 0; i < BOUNDS.length; i++) {
      if (cum[i] >= rank) {
        return BOUNDS[i];
      }
    }
    return BOUNDS[BOUNDS.length - 1];
  }
}
