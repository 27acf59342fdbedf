package io.bowline.filters.istio;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Istio's custom metrics ({@code PluginConfig.definitions}): counters, gauges and histograms named
 * {@code istio_<name>}, labelled only by the dimensions {@code metrics} overrides give them, scraped beside the
 * standard metrics by the same collector ({@link LoopMeters}). One set per Prometheus registry, shared by every
 * configuration that defines a name (the first definition of a name fixes its type). A counter keeps its configured name in the exposition, as Envoy prints it:
 * one not ending in {@code _total} is written untyped, since a Prometheus counter's name always ends so. Recorded
 * through concurrent adders: unlike the standard metrics these are opt-in, and not built for per-loop cells.
 */
final class CustomMetrics {
  enum Type { COUNTER, GAUGE, HISTOGRAM }

  /** Envoy's default histogram buckets, which Istio's custom histograms get. */
  private static final double[] BUCKETS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
      60000, 300000, 600000, 1800000, 3600000};

  private final Map<String, Family> families = new ConcurrentHashMap<>();

  /** The custom metrics of {@code registry}'s scrape output: part of its {@link LoopMeters}' collector. */
  static CustomMetrics of(PrometheusMeterRegistry registry) {
    return LoopMeters.of(registry).custom();
  }

  /** Records each custom metric of {@code definitions} for one finished request or connection. */
  void record(List<StatsSettings.Custom> definitions, io.bowline.core.accesslog.AccessLogFacts f) {
    for (StatsSettings.Custom c : definitions) {
      List<String> names = new ArrayList<>(c.dimensions().size());
      List<String> values = new ArrayList<>(c.dimensions().size());
      for (var d : c.dimensions().entrySet()) {
        names.add(d.getKey());
        values.add(d.getValue().value(f));
      }
      family(c.name(), c.type()).record(Labels.of(names, values), c.amount(f));
    }
  }

  /** The family of {@code name} ({@code istio_} included), made with {@code type} by its first caller. */
  Family family(String name, Type type) {
    return families.computeIfAbsent(name, n -> new Family(n, type));
  }

  /** The snapshots of the families that have a series, in name order (at each scrape). */
  void collect(List<MetricSnapshot> out) {
    for (Family f : new TreeMap<>(families).values()) {
      if (!f.series.isEmpty()) {
        out.add(f.snapshot());
      }
    }
  }

  java.util.Set<String> names() {
    return families.keySet();
  }

  static final class Family {
    private final String name;
    private final Type type;
    private final Map<Labels, Series> series = new ConcurrentHashMap<>();

    private Family(String name, Type type) {
      this.name = name;
      this.type = type;
    }

    void record(Labels labels, long value) {
      Series s = series.computeIfAbsent(labels, l -> new Series());
      switch (type) {
        case COUNTER -> s.count.add(value);
        case GAUGE -> s.gauge.set(value);
        case HISTOGRAM -> {
          int i = 0;
          while (i < BUCKETS.length && value > BUCKETS[i]) {
            i++;
          }
          s.buckets[i].increment();
          s.sum.add(value);
        }
      }
    }

    private MetricSnapshot snapshot() {
      switch (type) {
        case GAUGE -> {
          GaugeSnapshot.Builder g = GaugeSnapshot.builder().name(name);
          series.forEach((l, s) -> g.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l)
              .value(s.gauge.get()).build()));
          return g.build();
        }
        case HISTOGRAM -> {
          HistogramSnapshot.Builder h = HistogramSnapshot.builder().name(name);
          series.forEach((l, s) -> {
            double[] bounds = new double[BUCKETS.length + 1];
            long[] counts = new long[BUCKETS.length + 1];
            for (int i = 0; i < counts.length; i++) {
              bounds[i] = i < BUCKETS.length ? BUCKETS[i] : Double.POSITIVE_INFINITY;
              counts[i] = s.buckets[i].sum();
            }
            h.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(l)
                .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, counts)).sum(s.sum.sum()).build());
          });
          return h.build();
        }
        default -> {
          if (name.endsWith("_total")) {
            CounterSnapshot.Builder c = CounterSnapshot.builder().name(name.substring(0, name.length() - 6));
            series.forEach((l, s) -> c.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l)
                .value(s.count.sum()).build()));
            return c.build();
          }
          UnknownSnapshot.Builder u = UnknownSnapshot.builder().name(name);
          series.forEach((l, s) -> u.dataPoint(UnknownSnapshot.UnknownDataPointSnapshot.builder().labels(l)
              .value(s.count.sum()).build()));
          return u.build();
        }
      }
    }
  }

  private static final class Series {
    final LongAdder count = new LongAdder();
    final AtomicLong gauge = new AtomicLong();
    final LongAdder[] buckets = new LongAdder[BUCKETS.length + 1];
    final DoubleAdder sum = new DoubleAdder();

    Series() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }
  }
}
