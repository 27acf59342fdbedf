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
  /** Counters, gauges and computed gauges by scope prefix (empty or ending with '.'), then by their last segment. */
  private final ConcurrentHashMap<String, ScopeTable> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ScopeTable> gauges = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ScopeTable> computedGauges = new ConcurrentHashMap<>();
  /** Prefixes and last segments, shared by every stat that has them. */
  private final ConcurrentHashMap<String, String> segments = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Histogram> histograms = new ConcurrentHashMap<>();
  /** Histograms shown empty until made, by scope prefix: a cluster's traffic histograms until its first request. */
  private final ConcurrentHashMap<String, String[]> deferredHistograms = new ConcurrentHashMap<>();
  /** Lists of last segments deferred together (a cluster's traffic stats), as their shared instances. */
  private final ConcurrentHashMap<String[], String[]> sharedLists = new ConcurrentHashMap<>();
  private volatile StatsConfig config = StatsConfig.DEFAULT;
  /** Made once: a method reference bound to this store would be a new object for every stat made. */
  private final java.util.function.BiFunction<String, String, Object> counterMaker = this::newCounter;
  private final java.util.function.BiFunction<String, String, Object> gaugeMaker = this::newGauge;

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
    return counter(table(counters, prefix), segment);
  }

  private Counter counter(ScopeTable t, String segment) {
    String name = shared(segment);
    Object c = t.getShared(name);
    return c != null && c != ScopeTable.DEFERRED ? (Counter) c : (Counter) t.getOrAdd(name, counterMaker);
  }

  /**
   * Shows each of {@code segments} under {@code t}'s prefix as an unused 0 without making it: the stat is made when
   * first looked up. A stat {@code stats_matcher} rejects is left out, as a made one would be.
   */
  private void defer(ScopeTable t, String[] segments, int spare) {
    String[] all = sharedList(segments);
    if (config.includesAll()) {
      t.defer(all, spare);
      return;
    }
    String prefix = t.prefix();
    String[] names = new String[all.length];
    int n = 0;
    for (String segment : all) {
      if (included(prefix, segment)) {
        names[n++] = segment;
      }
    }
    t.defer(java.util.Arrays.copyOf(names, n), spare);
  }

  /** {@code segments} with each name the shared instance, found by the array's identity: a caller's constant list. */
  private String[] sharedList(String[] segments) {
    String[] all = sharedLists.get(segments);
    if (all == null) {
      all = sharedLists.computeIfAbsent(segments, k -> {
        String[] shared = new String[k.length];
        for (int i = 0; i < k.length; i++) {
          shared[i] = shared(k[i]);
        }
        return shared;
      });
    }
    return all;
  }

  /**
   * A stat {@code stats_matcher} rejects is its kind's null stat, as in Envoy: the table keeps only its name, so it
   * is matched once, and nothing is counted or shown for it. Stats made before the bootstrap's config is known are
   * kept, and left out when shown.
   */
  private Counter newCounter(String prefix, String segment) {
    return included(prefix, segment) ? new Counter() : Counter.NULL;
  }

  private Gauge newGauge(String prefix, String segment) {
    return included(prefix, segment) ? new Gauge() : Gauge.NULL;
  }

  /** Builds the stat's full name only for a stats_matcher that needs it: a cluster makes ~45 stats, 10,000 a push. */
  private boolean included(String prefix, String segment) {
    StatsConfig c = config;
    return c.includesAll() || c.included(prefix + segment);
  }

  private ScopeTable table(ConcurrentHashMap<String, ScopeTable> kind, String prefix) {
    ScopeTable t = kind.get(prefix);
    if (t == null) {
      t = kind.computeIfAbsent(prefix, k -> new ScopeTable(shared(k)));
    }
    return t;
  }

  private String shared(String s) {
    return segments.computeIfAbsent(s, x -> x);
  }

  public Gauge gauge(String name) {
    int dot = name.lastIndexOf('.');
    return gauge(name.substring(0, dot + 1), name.substring(dot + 1));
  }

  Gauge gauge(String prefix, String segment) {
    ScopeTable t = table(gauges, prefix);
    String name = shared(segment);
    Object g = t.getShared(name);
    return g != null && g != ScopeTable.DEFERRED ? (Gauge) g : (Gauge) t.getOrAdd(name, gaugeMaker);
  }

  /** A gauge whose value is read when stats are rendered (server.uptime, a circuit breaker's state). */
  public void computedGauge(String name, LongSupplier value) {
    int dot = name.lastIndexOf('.');
    computedGauge(name.substring(0, dot + 1), name.substring(dot + 1), value);
  }

  /** {@code prefix} is empty or ends with '.', {@code segment} has no '.'. */
  void computedGauge(String prefix, String segment, LongSupplier value) {
    if (included(prefix, segment)) {
      table(computedGauges, prefix).put(shared(segment), value);
    }
  }

  /**
   * The computed gauge {@code segment} under {@code prefix}: made by {@code make} the first time and the same object
   * after, so every configuration that names the scope (two connection managers with one stat_prefix, each update of
   * a listener) adds to one source. One that {@code stats_matcher} rejects is made at each call and shown nowhere.
   */
  @SuppressWarnings("unchecked")
  <T extends LongSupplier> T sharedComputedGauge(String prefix, String segment, java.util.function.Supplier<T> make) {
    if (!included(prefix, segment)) {
      return make.get();
    }
    return (T) table(computedGauges, prefix).getOrAdd(shared(segment), (p, s) -> make.get());
  }

  /**
   * Several gauges of one object, read when stats are rendered: a cluster's circuit breaker has five to ten, and
   * one table entry per gauge pointing at the object costs a mesh of thousands of clusters no object per gauge.
   */
  public interface GaugeSource {
    /** The value of the gauge named {@code segment} (one of the names it was registered under). */
    long gaugeValue(String segment);
  }

  /** {@code prefix} ends with '.'; {@code segments} is the caller's constant list. */
  void computedGauges(String prefix, String[] segments, GaugeSource source) {
    String[] all = sharedList(segments);
    ScopeTable t = null;
    for (String segment : all) {
      if (included(prefix, segment)) {
        if (t == null) {
          t = table(computedGauges, prefix);
        }
        t.put(segment, source);
      }
    }
  }

  public Histogram histogram(String name) {
    Histogram h = histograms.get(name);
    return h != null ? h
        : histograms.computeIfAbsent(name, n -> config.included(n) ? new Histogram(n) : Histogram.NULL);
  }

  /** A scope: every name it hands out starts with {@code prefix}. */
  public Scope scope(String prefix) {
    return new Scope(this, prefix);
  }

  /** Names of the clusters that have had a scope here: where a dotted cluster name ends in a stat's name. */
  private final java.util.Set<String> clusterNames = ConcurrentHashMap.newKeySet();
  /** Written by the control thread only. */
  private volatile int clusterRemovals;

  /** The scope {@code cluster.<name>.}, whose name Prometheus' tag extraction then knows. */
  public Scope clusterScope(String name) {
    clusterNames.add(name);
    return scope("cluster." + name + ".");
  }

  java.util.Set<String> clusterNames() {
    return clusterNames;
  }

  /**
   * The cluster a stat name (or scope prefix) {@code cluster.<name>.…} belongs to: the longest of {@code clusters}
   * it starts with — names may contain dots, and so may stats — tried from the right; null when none fits.
   */
  static @Nullable String clusterOf(String key, java.util.Set<String> clusters) {
    if (!key.startsWith("cluster.")) {
      return null;
    }
    for (int dot = key.lastIndexOf('.'); dot > 8; dot = key.lastIndexOf('.', dot - 1)) {
      String name = key.substring(8, dot);
      if (clusters.contains(name)) {
        return name;
      }
    }
    return null;
  }

  /**
   * Forgets every stat of clusters that are gone (no config names them any more), as Envoy frees a removed cluster's
   * stats: {@code /stats} stops showing them, and a mesh whose services come and go does not keep each one's tables.
   * A stat belongs to the longest cluster name it starts with, so removing {@code a} keeps {@code a.b}'s. A cluster
   * added again later starts from zero. Control thread; a request still finishing on a removed cluster counts into
   * tables no longer shown.
   */
  public void removeClusters(java.util.Collection<String> names) {
    if (names.isEmpty()) {
      return;
    }
    java.util.Set<String> gone = java.util.Set.copyOf(names);
    java.util.function.Predicate<String> ofGone = key -> {
      String owner = clusterOf(key, clusterNames);
      return owner != null && gone.contains(owner);
    };
    counters.keySet().removeIf(ofGone);
    gauges.keySet().removeIf(ofGone);
    computedGauges.keySet().removeIf(ofGone);
    histograms.keySet().removeIf(ofGone);
    deferredHistograms.keySet().removeIf(ofGone);
    clusterNames.removeAll(gone);
    clusterRemovals++; // after the tables went: a PerCluster that sees it makes its stats again, in the new tables
  }

  /** How many times clusters' stats were removed; {@link PerCluster} drops what it made before a change. */
  int clusterRemovals() {
    return clusterRemovals;
  }

  public record Value(String name, long value, boolean used) {}

  /** A stat the store shows, as a listing walks it: {@code holder} is its Counter, Gauge or computed gauge's source. */
  interface ShownStat {
    void stat(boolean counter, String prefix, String segment, Object holder, boolean used);
  }

  /**
   * Every counter, gauge and computed gauge the store shows — not the null stats {@code stats_matcher} rejected —
   * scope by scope in prefix order, without naming one: a gauge made as a computed one is given once, as that; a stat
   * not made yet ({@link ScopeTable#DEFERRED}) unused. The one walk every listing shares.
   */
  void forEachShown(ShownStat to) {
    for (ScopeTable t : byPrefix(counters.values())) {
      t.forEach((n, c) -> {
        if (c != Counter.NULL) {
          to.stat(true, t.prefix(), n, c, c != ScopeTable.DEFERRED && ((Counter) c).used());
        }
      });
    }
    for (ScopeTable t : byPrefix(gauges.values())) {
      ScopeTable computed = computedGauges.get(t.prefix());
      t.forEach((n, g) -> {
        if (g == ScopeTable.DEFERRED && computed != null && computed.getShared(n) != null) {
          return; // made as a computed gauge, given below
        }
        if (g != Gauge.NULL) {
          to.stat(false, t.prefix(), n, g, g != ScopeTable.DEFERRED && ((Gauge) g).used());
        }
      });
    }
    for (ScopeTable t : byPrefix(computedGauges.values())) {
      t.forEach((n, source) -> to.stat(false, t.prefix(), n, source, true));
    }
  }

  private static List<ScopeTable> byPrefix(java.util.Collection<ScopeTable> tables) {
    List<ScopeTable> out = new ArrayList<>(tables);
    out.sort(Comparator.comparing(ScopeTable::prefix));
    return out;
  }

  /** A shown stat's value now: a counter's or gauge's, a computed gauge's; 0 for one not made yet. */
  static long valueOf(Object holder, String segment) {
    if (holder instanceof Counter c) {
      return c.value();
    }
    if (holder instanceof Gauge g) {
      return g.value();
    }
    if (holder == ScopeTable.DEFERRED) {
      return 0;
    }
    return holder instanceof LongSupplier l ? l.getAsLong() : ((GaugeSource) holder).gaugeValue(segment);
  }

  public List<Value> counters() {
    return values(true);
  }

  public List<Value> gauges() {
    return values(false);
  }

  private List<Value> values(boolean counters) {
    List<Value> out = new ArrayList<>();
    forEachShown((counter, prefix, segment, holder, used) -> {
      if (counter == counters) {
        out.add(new Value(prefix + segment, valueOf(holder, segment), used));
      }
    });
    out.sort(Comparator.comparing(Value::name));
    return out;
  }

  public List<Histogram> histograms() {
    List<Histogram> out = new ArrayList<>(histograms.values());
    out.removeIf(h -> h == Histogram.NULL);
    deferredHistograms.forEach((prefix, segments) -> {
      for (String segment : segments) {
        String name = prefix + segment;
        if (!histograms.containsKey(name)) {
          out.add(new Histogram(name)); // an empty one to show, not kept: the scope makes the real one when used
        }
      }
    });
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
    /** Resolved on first use (config compiles, or an event loop meets a new response code). */
    private volatile @Nullable ScopeTable table;

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

    /** A name the scope's own table holds: one segment, under a prefix that ends a segment. */
    private boolean plain(String name) {
      return name.indexOf('.') < 0 && (prefix.isEmpty() || prefix.endsWith("."));
    }

    public Counter counter(String name) {
      if (!plain(name)) {
        return stats.counter(prefix + name);
      }
      ScopeTable t = table;
      if (t == null) {
        t = stats.table(stats.counters, prefix);
        table = t;
      }
      return stats.counter(t, name);
    }

    public Gauge gauge(String name) {
      return plain(name) ? stats.gauge(prefix, name) : stats.gauge(prefix + name);
    }

    /**
     * Counters (single segments) shown as unused zeros until first looked up, when {@link #counter} makes them; room
     * is kept for {@code spare} more counters in the scope.
     */
    public void deferCounters(String[] segments, int spare) {
      ScopeTable t = table;
      if (t == null) {
        t = stats.table(stats.counters, prefix);
        table = t;
      }
      stats.defer(t, segments, spare);
    }

    /**
     * Histograms (single segments) shown empty until first looked up, when {@link #histogram} makes them: two of
     * each of thousands of clusters, their names and map entries, are a few hundred bytes a cluster.
     */
    public void deferHistograms(String[] segments) {
      stats.deferredHistograms.put(prefix, stats.sharedList(segments));
    }

    /** Gauges (single segments) shown as unused zeros until first looked up, when {@link #gauge} makes them. */
    public void deferGauges(String[] segments) {
      stats.defer(stats.table(stats.gauges, prefix), segments, 0);
    }

    public Histogram histogram(String name) {
      return stats.histogram(prefix + name);
    }

    /** See {@link Stats#sharedComputedGauge}; {@code segment} is one segment, and this scope's prefix ends with '.'. */
    public <T extends LongSupplier> T sharedComputedGauge(String segment, java.util.function.Supplier<T> make) {
      return stats.sharedComputedGauge(prefix, segment, make);
    }

    /** Gauges of {@code source} under this scope (whose prefix ends with '.'), one per name in {@code segments}. */
    public void computedGauges(String[] segments, GaugeSource source) {
      stats.computedGauges(prefix, segments, source);
    }

    public Scope scope(String more) {
      return new Scope(stats, prefix + more);
    }
  }
}
