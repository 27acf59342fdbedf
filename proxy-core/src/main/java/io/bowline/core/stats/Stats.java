package io.bowline.core.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The store of Envoy-named stats. Lookups happen when config is compiled, and the returned objects are kept in the
 * compiled model, so nothing on the data path looks a stat up by name. Re-compiling a config returns the same objects
 * for the same names, so counters survive config updates as Envoy's do.
 */
public final class Stats {
  /** Counters by scope prefix (ending with '.') and last name segment; prefixes and segments are shared strings. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, String> segments = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Gauge> gauges = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, LongSupplier> computedGauges = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Histogram> histograms = new ConcurrentHashMap<>();
  private volatile StatsConfig config = StatsConfig.DEFAULT;

  /** The bootstrap's stats_config: which stats are shown and how they are tagged. */
  public void configure(StatsConfig config) {
    this.config = config;
  }

  public StatsConfig config() {
    return config;
  }

  public Counter counter(String name) {
    int dot = name.lastIndexOf('.');
    return counter(name.substring(0, dot + 1), name.substring(dot + 1));
  }

  /** {@code prefix} is empty or ends with '.', {@code segment} has no '.'. */
  Counter counter(String prefix, String segment) {
    ConcurrentHashMap<String, Counter> scope = counters.get(prefix);
    if (scope == null) {
      scope = counters.computeIfAbsent(prefix, k -> new ConcurrentHashMap<>(32));
    }
    Counter c = scope.get(segment);
    if (c != null) {
      return c;
    }
    String sharedPrefix = segments.computeIfAbsent(prefix, k -> k);
    String sharedSegment = segments.computeIfAbsent(segment, k -> k);
    return scope.computeIfAbsent(segment, k -> new Counter(sharedPrefix, sharedSegment));
  }

  public Gauge gauge(String name) {
    return gauges.computeIfAbsent(name, Gauge::new);
  }

  /** A gauge whose value is read when stats are rendered (server.uptime, server.live). */
  public void computedGauge(String name, LongSupplier value) {
    computedGauges.put(name, value);
  }

  public Histogram histogram(String name) {
    return histograms.computeIfAbsent(name, Histogram::new);
  }

  /** A scope: every name it hands out starts with {@code prefix}. */
  public Scope scope(String prefix) {
    return new Scope(this, prefix);
  }

  public record Value(String name, long value, boolean used) {}

  public List<Value> counters() {
    List<Value> out = new ArrayList<>();
    counters.values().forEach(scope -> scope.values().forEach(c -> out.add(new Value(c.name(), c.value(),
        c.used()))));
    out.sort(Comparator.comparing(Value::name));
    return out;
  }

  public List<Value> gauges() {
    List<Value> out = new ArrayList<>();
    gauges.values().forEach(g -> out.add(new Value(g.name(), g.value(), g.used())));
    computedGauges.forEach((n, s) -> out.add(new Value(n, s.getAsLong(), true)));
    out.sort(Comparator.comparing(Value::name));
    return out;
  }

  public List<Histogram> histograms() {
    List<Histogram> out = new ArrayList<>(histograms.values());
    out.sort(Comparator.comparing(Histogram::name));
    return out;
  }

  /**
   * A named prefix over a {@link Stats} store. It resolves its own counter table once, so building the few dozen
   * stats of each of thousands of clusters costs one map insertion per counter.
   */
  public static final class Scope {
    private final Stats stats;
    private final String prefix;
    /** Resolved on first use; final fields, so an event loop that reads it racily still sees it whole. */
    private @Nullable Table table;

    private record Table(ConcurrentHashMap<String, Counter> counters, String sharedPrefix) {}

    Scope(Stats stats, String prefix) {
      this.stats = stats;
      this.prefix = prefix;
    }

    public Stats stats() {
      return stats;
    }

    public String prefix() {
      return prefix;
    }

    public Counter counter(String name) {
      if (name.indexOf('.') >= 0 || !(prefix.isEmpty() || prefix.endsWith("."))) {
        return stats.counter(prefix + name);
      }
      Table t = table;
      if (t == null) {
        t = new Table(stats.counters.computeIfAbsent(prefix, k -> new ConcurrentHashMap<>(32)),
            stats.segments.computeIfAbsent(prefix, k -> k));
        table = t;
      }
      Counter c = t.counters().get(name);
      if (c != null) {
        return c;
      }
      String p = t.sharedPrefix();
      return t.counters().computeIfAbsent(name, k -> new Counter(p, stats.segments.computeIfAbsent(k, x -> x)));
    }

    public Gauge gauge(String name) {
      return stats.gauge(prefix + name);
    }

    public Histogram histogram(String name) {
      return stats.histogram(prefix + name);
    }

    public Scope scope(String more) {
      return new Scope(stats, prefix + more);
    }
  }
}
