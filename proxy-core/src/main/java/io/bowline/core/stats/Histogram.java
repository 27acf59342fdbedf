package io.bowline.core.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jspecify.annotations.Nullable;

/**
 * An Envoy histogram in milliseconds with Envoy's default bucket bounds, cumulative like Prometheus. Recording is
 * a short scan and two atomic adds: cheap enough for every request. The buckets are made on the first sample: a
 * mesh-sized config has two histograms for each of thousands of clusters, most of which never see a request.
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

  /** The slot after the buckets (the last of which is +Inf): the sum of the samples in microseconds. */
  private static final int SUM = BOUNDS.length + 1;
  private static final VarHandle CELLS;

  static {
    try {
      CELLS = MethodHandles.lookup().findVarHandle(Histogram.class, "cells", AtomicLongArray.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  /** The buckets' counts and the sum; null until the first sample. The count is the buckets' total. */
  private volatile @Nullable AtomicLongArray cells;

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
    AtomicLongArray c = cells;
    if (c == null) {
      c = firstCells();
    }
    c.incrementAndGet(lo);
    c.addAndGet(SUM, nanos / 1000);
  }

  /** Makes the cells once, whichever event loop records first. */
  private AtomicLongArray firstCells() {
    AtomicLongArray made = new AtomicLongArray(SUM + 1);
    AtomicLongArray won = (AtomicLongArray) CELLS.compareAndExchange(this, (AtomicLongArray) null, made);
    return won == null ? made : won;
  }

  public String name() {
    return name;
  }

  public long count() {
    AtomicLongArray c = cells;
    long n = 0;
    for (int i = 0; c != null && i < SUM; i++) {
      n += c.get(i);
    }
    return n;
  }

  public double sumMillis() {
    AtomicLongArray c = cells;
    return c == null ? 0 : c.get(SUM) / 1000.0;
  }

  /** Cumulative count of samples at or below {@code BOUNDS[i]}; index BOUNDS.length is +Inf. */
  public long[] cumulative() {
    long[] out = new long[BOUNDS.length + 1];
    AtomicLongArray c = cells;
    if (c == null) {
      return out;
    }
    long running = 0;
    for (int i = 0; i < out.length; i++) {
      running += c.get(i);
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
