package io.bowline.core.compile;

import io.bowline.core.accesslog.AccessLogWriter;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.stats.Stats;
import java.util.HashMap;
import java.util.Map;

/** What compiling a configuration may use: the stats store, the filter registry, and shared access-log writers. */
public final class CompileContext {
  private final Stats stats;
  private final FilterRegistry filters;
  private final long drainTimeoutMs;
  private final AccessLogWriter accessLogWriter;
  private volatile java.util.Set<String> clusterNames = java.util.Set.of();
  private final java.util.List<String> warnings = new java.util.ArrayList<>();
  private boolean ads;
  private final java.util.Set<String> controlPlaneOnly = new java.util.HashSet<>();

  void controlPlaneOnly(String cluster) {
    controlPlaneOnly.add(cluster);
  }
  private final io.bowline.core.config.SecretStore secrets = new io.bowline.core.config.SecretStore();
  private final Map<String, io.bowline.core.config.RouteSource> rdsSources = new HashMap<>();
  private final java.util.Set<String> rdsUsed = new java.util.LinkedHashSet<>();

  /** The bootstrap has an ADS stream, so HCMs may take their routes from RDS. */
  void adsAvailable(boolean available) {
    ads = available;
  }

  boolean adsAvailable() {
    return ads;
  }

  /** The TLS secrets in force and the contexts built from them. */
  public io.bowline.core.config.SecretStore secrets() {
    return secrets;
  }

  /** The shared source of an RDS route configuration, created on first use; remembers that it was used. */
  synchronized io.bowline.core.config.RouteSource rds(String name, String path) throws io.bowline.xds.ConfigException {
    if (!ads) {
      throw new io.bowline.xds.ConfigException(path, "rds needs dynamic_resources.ads_config in the bootstrap");
    }
    rdsUsed.add(name);
    return rdsSources.computeIfAbsent(name, io.bowline.core.config.RouteSource::rds);
  }

  /** The RDS source of a route configuration, if any HCM has named it. */
  public synchronized io.bowline.core.config.@org.jspecify.annotations.Nullable RouteSource rdsSource(String name) {
    return rdsSources.get(name);
  }

  /** The route configuration names HCMs named since the last call (and forgets them). */
  public synchronized java.util.Set<String> takeRdsUsed() {
    java.util.Set<String> used = java.util.Set.copyOf(rdsUsed);
    rdsUsed.clear();
    return used;
  }

  private volatile io.bowline.core.upstream.@org.jspecify.annotations.Nullable ClusterManager clusterManager;
  private final io.bowline.core.filter.ClusterDirectory directory = new io.bowline.core.filter.ClusterDirectory() {
    @Override
    public boolean exists(String cluster) {
      return clusterNames.contains(cluster);
    }

    @Override
    public java.util.List<java.net.InetSocketAddress> hosts(String cluster) {
      var m = clusterManager;
      var c = m == null ? null : m.get(cluster);
      if (c == null) {
        return java.util.List.of();
      }
      java.util.List<java.net.InetSocketAddress> healthy = new java.util.ArrayList<>();
      java.util.List<java.net.InetSocketAddress> others = new java.util.ArrayList<>();
      for (var h : c.hosts().hosts()) {
        (h.healthy() && !h.ejected() ? healthy : others).add(h.address());
      }
      healthy.addAll(others);
      return healthy;
    }

    @Override
    public com.google.protobuf.@org.jspecify.annotations.Nullable Struct metadata(String cluster, String filter) {
      var m = clusterManager;
      var c = m == null ? null : m.get(cluster);
      if (c == null) {
        return null;
      }
      try {
        var md = io.envoyproxy.envoy.config.cluster.v3.Cluster.parseFrom(c.config().protoBytes()).getMetadata();
        return md.getFilterMetadataOrDefault(filter, null);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return null;
      }
    }

    @Override
    public @org.jspecify.annotations.Nullable Object generation(String cluster) {
      var m = clusterManager;
      var c = m == null ? null : m.get(cluster);
      return c == null ? null : c.config();
    }
  };

  private boolean allowUnsupportedStaticFields;

  /** --allow-unknown-static-fields: the static bootstrap's unsupported fields and HTTP filters become warnings. */
  public void allowUnsupportedStaticFields(boolean allow) {
    this.allowUnsupportedStaticFields = allow;
  }

  boolean allowUnsupportedStaticFields() {
    return allowUnsupportedStaticFields;
  }

  /** The clusters as filters see them; their hosts once {@link #attach} gave the cluster manager. */
  public io.bowline.core.filter.ClusterDirectory clusterDirectory() {
    return directory;
  }

  /** The running clusters, which filters' service calls resolve against. */
  public void attach(io.bowline.core.upstream.ClusterManager clusters) {
    this.clusterManager = clusters;
  }

  /** The clusters a route table may name (static plus those CDS delivered). */
  public void setKnownClusters(java.util.Set<String> names) {
    knownClusters(names);
  }

  /** The clusters a static route table may name; set before listeners are compiled. */
  void knownClusters(java.util.Set<String> names) {
    clusterNames = java.util.Set.copyOf(names);
  }

  public void validateClusters(io.bowline.core.router.RouteTable routes, String path) throws io.bowline.xds.ConfigException {
    for (int v = 0; v < routes.virtualHosts().size(); v++) {
      var vh = routes.virtualHosts().get(v);
      for (int r = 0; r < vh.routes().size(); r++) {
        if (vh.routes().get(r).action() instanceof io.bowline.core.router.RouteAction.Forward f) {
          for (var c : f.clusters()) {
            if (!clusterNames.contains(c.name())) {
              throw new io.bowline.xds.ConfigException(path + ".virtual_hosts[" + v + "].routes[" + r + "]",
                  controlPlaneOnly.contains(c.name())
                      ? "cluster '" + c.name() + "' is on a unix socket, usable only as a management server so far"
                      : "unknown cluster '" + c.name() + "' (set validate_clusters: false to allow it)");
            }
          }
        }
      }
    }
  }

  /** Accepted fields that bowline does not apply; the launcher logs each once. */
  public java.util.List<String> warnings() {
    return warnings;
  }

  void warn(String w) {
    warnings.add(w);
  }

  public CompileContext(Stats stats, FilterRegistry filters, long fileFlushIntervalMs, long drainTimeoutMs) {
    this.stats = stats;
    this.filters = filters;
    this.accessLogWriter = new AccessLogWriter(stats, fileFlushIntervalMs);
    this.drainTimeoutMs = drainTimeoutMs;
  }

  public Stats stats() {
    return stats;
  }

  public FilterRegistry filters() {
    return filters;
  }

  public long drainTimeoutMs() {
    return drainTimeoutMs;
  }

  private volatile String nodeId = "";
  private volatile String nodeCluster = "";
  private volatile @org.jspecify.annotations.Nullable String nodeZone;
  private final Map<String, io.bowline.core.tracing.Tracer> tracers = new HashMap<>();

  /**
   * The tracer of a provider config, made once and shared by every HCM (and config generation) that names the same
   * config, so its exporter thread and queue survive updates.
   */
  synchronized io.bowline.core.tracing.Tracer tracer(String key,
      java.util.function.Supplier<io.bowline.core.tracing.Tracer> make) {
    return tracers.computeIfAbsent(key, k -> make.get());
  }

  private volatile io.envoyproxy.envoy.config.trace.v3.Tracing.@org.jspecify.annotations.Nullable Http
      bootstrapTracing;

  /** The bootstrap's {@code tracing.http}: the provider of HCMs whose tracing names none. */
  void bootstrapTracing(io.envoyproxy.envoy.config.trace.v3.Tracing.@org.jspecify.annotations.Nullable Http http) {
    this.bootstrapTracing = http;
  }

  io.envoyproxy.envoy.config.trace.v3.Tracing.@org.jspecify.annotations.Nullable Http bootstrapTracing() {
    return bootstrapTracing;
  }

  String nodeId() {
    return nodeId;
  }

  String nodeCluster() {
    return nodeCluster;
  }

  @org.jspecify.annotations.Nullable String nodeZone() {
    return nodeZone;
  }
  private volatile com.google.protobuf.Struct nodeMetadata = com.google.protobuf.Struct.getDefaultInstance();
  private final io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters =
      new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
          io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);

  /** This proxy's node, as the bootstrap (and --service-node) name it; filters read its metadata. */
  void node(String id, String cluster, String zone, com.google.protobuf.Struct metadata) {
    this.nodeId = id;
    this.nodeCluster = cluster;
    this.nodeZone = zone.isEmpty() ? null : zone;
    this.nodeMetadata = metadata;
  }

  /** The mesh metrics (Istio's), served on /stats/prometheus beside Envoy's stats. */
  public io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters() {
    return meters;
  }

  /** What filters of a listener with {@code direction} may know about it. */
  io.bowline.core.filter.ListenerContext listenerContext(io.bowline.core.filter.ListenerContext.Direction direction) {
    return new io.bowline.core.filter.ListenerContext(direction, nodeId, nodeMetadata, meters);
  }

  /** The process's one access-log writer: every access log of every config generation queues to it. */
  public AccessLogWriter accessLogWriter() {
    return accessLogWriter;
  }

  public void closeWriters() {
    accessLogWriter.close();
    synchronized (this) {
      tracers.values().forEach(t -> t.exporter().close());
    }
  }
}
