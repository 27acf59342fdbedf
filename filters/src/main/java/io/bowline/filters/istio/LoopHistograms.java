package io.bowline.filters.istio;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Istio's histograms as Prometheus classic histograms, written by each thread into cells of its own and summed when
 * Prometheus scrapes. A Micrometer summary took four atomic updates and two clock reads per value (its count, sum,
 * decaying max and time-windowed buckets); here recording a value is a bucket search and two plain stores on the
 * event loop's own cache lines. Exposed through the Micrometer registry's Prometheus registry, so
 * {@code /stats/prometheus} writes them beside every other mesh metric.
 */
final class LoopHistograms implements MultiCollector {
  private static final Map<PrometheusRegistry, LoopHistograms> BY_REGISTRY = new WeakHashMap<>();
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  private final Map<String, Family> families = new ConcurrentHashMap<>();

  private LoopHistograms() {}

  /** The histograms of {@code registry}'s scrape output (registered with it on first use). */
  static LoopHistograms of(PrometheusMeterRegistry registry) {
    PrometheusRegistry prometheus = registry.getPrometheusRegistry();
    synchronized (BY_REGISTRY) {
      return BY_REGISTRY.computeIfAbsent(prometheus, p -> {
        LoopHistograms h = new LoopHistograms();
        p.register(h);
        return h;
      });
    }
  }

  /** The series of {@code name} with {@code labels}; the first caller of a name fixes its help and buckets. */
  Series series(String name, String help, double[] upperBounds, Labels labels) {
    Family f = families.computeIfAbsent(name, n -> new Family(n, help, upperBounds));
    return f.series.computeIfAbsent(labels, l -> new Series(f.upperBounds, l));
  }

  @Override
  public MetricSnapshots collect() {
    List<MetricSnapshot> out = new ArrayList<>();
    for (Family f : new TreeMap<>(families).values()) {
      if (f.series.isEmpty()) {
        continue;
      }
      HistogramSnapshot.Builder h = HistogramSnapshot.builder().name(f.name).help(f.help);
      for (Series s : f.series.values()) {
        h.dataPoint(s.snapshot());
      }
      out.add(h.build());
    }
    return new MetricSnapshots(out);
  }

  @Override
  public List<String> getPrometheusNames() {
    return new ArrayList<>(families.keySet());
  }

  private static final class Family {
    final String name;
    final String help;
    final double[] upperBounds; // Istio's, then +Inf
    final Map<Labels, Series> series = new ConcurrentHashMap<>();

    Family(String name, String help, double[] bounds) {
      this.name = name;
      this.help = help;
      this.upperBounds = java.util.Arrays.copyOf(bounds, bounds.length + 1);
      this.upperBounds[bounds.length] = Double.POSITIVE_INFINITY;
    }
  }

  /** One label set: a cell per thread that records into it. */
  static final class Series {
    private final double[] upperBounds;
    private final Labels labels;
    private volatile Cells[] cells = new Cells[0];

    private Series(double[] upperBounds, Labels labels) {
      this.upperBounds = upperBounds;
      this.labels = labels;
    }

    /** The calling thread's cells: only it may record into them. */
    synchronized Cells cellsOfThisThread() {
      Thread me = Thread.currentThread();
      for (Cells c : cells) {
        if (c.owner == me) {
          return c;
        }
      }
      Cells c = new Cells(me, upperBounds);
      Cells[] grown = java.util.Arrays.copyOf(cells, cells.length + 1);
      grown[cells.length] = c;
      cells = grown;
      return c;
    }

    private HistogramSnapshot.HistogramDataPointSnapshot snapshot() {
      long[] counts = new long[upperBounds.length];
      double sum = 0;
      for (Cells c : cells) {
        for (int i = 0; i < counts.length; i++) {
          counts[i] += (long) LONGS.getOpaque(c.counts, i);
        }
        sum += Double.longBitsToDouble((long) LONGS.getOpaque(c.sumBits, 0));
      }
      return HistogramSnapshot.HistogramDataPointSnapshot.builder()
          .classicHistogramBuckets(ClassicHistogramBuckets.of(upperBounds, counts))
          .sum(sum)
          .labels(labels)
          .build();
    }
  }

  /**
   * One thread's counts of one series: written by that thread alone (opaque stores, so a scrape on another thread
   * reads whole values, at worst a few records behind).
   */
  static final class Cells {
    private final Thread owner;
    private final double[] upperBounds;
    private final long[] counts; // per bucket, not cumulative
    private final long[] sumBits = new long[1];

    private Cells(Thread owner, double[] upperBounds) {
      this.owner = owner;
      this.upperBounds = upperBounds;
      this.counts = new long[upperBounds.length];
    }

    void record(double value) {
      int i = 0;
      while (value > upperBounds[i]) { // stops at +Inf at the latest
        i++;
      }
      LONGS.setOpaque(counts, i, counts[i] + 1);
      LONGS.setOpaque(sumBits, 0, Double.doubleToRawLongBits(Double.longBitsToDouble(sumBits[0]) + value));
    }
  }
}
