package io.bowline.core.config;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** A cluster, compiled: how to find its endpoints, balance across them, and talk to them. */
public record ClusterConfig(
    String name,
    DiscoveryType type,
    List<EndpointConfig> endpoints,
    long connectTimeoutMs,
    LbPolicy lbPolicy,
    int leastRequestChoiceCount,
    UpstreamProtocol protocol,
    @Nullable TlsContextSource tls,
    @Nullable String sni,
    boolean autoSni,
    long dnsRefreshRateMs,
    long poolIdleTimeoutMs,
    int maxRequestsPerConnection,
    /** {@code common_http_protocol_options.max_headers_count}: an upstream response with more fields is refused. */
    int maxResponseHeadersCount,
    /** {@code http_protocol_options.enable_trailers} of its HTTP/1.1 upstream: trailers read and written, else dropped. */
    boolean http1Trailers,
    HcmConfig.Http2Settings http2,
    int perConnectionBufferLimitBytes,
    DnsFamily dnsFamily,
    @Nullable String edsServiceName,
    Thresholds circuitBreakers,
    @Nullable Outlier outlierDetection,
    int healthyPanicThresholdPercent,
    long ringMinSize,
    long ringMaxSize,
    int maglevTableSize,
    boolean localityWeighted,
    UpstreamSocket socket,
    double activeRequestBias,
    @Nullable SlowStart slowStart,
    @Nullable OriginalDst originalDst,
    @Nullable HealthCheckConfig healthCheck,
    ZoneAware zoneAware,
    com.google.protobuf.ByteString protoBytes,
    List<io.bowline.core.filter.ConnectionGate> upstreamFilters,
    List<TransportSocketMatch> socketMatches) {

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
    upstreamFilters = List.copyOf(upstreamFilters);
    socketMatches = List.copyOf(socketMatches);
  }

  /**
   * How connections to the endpoints are opened: from {@code upstream_bind_config.source_address} when set (Istio binds
   * inbound clusters to 127.0.0.6), with {@code upstream_connection_options.tcp_keepalive} when set.
   */
  public record UpstreamSocket(java.net.@Nullable InetSocketAddress sourceAddress, @Nullable Keepalive keepalive) {
    public static final UpstreamSocket DEFAULT = new UpstreamSocket(null, null);
  }

  /**
   * {@code slow_start_config} of the round-robin or least-request balancer: for {@code windowMs} after a host joins,
   * its weight is scaled by max(minWeightPercent / 100, (max(seconds since joining, 1) / window seconds)^(1 /
   * aggression)).
   */
  public record SlowStart(long windowMs, double aggression, double minWeightPercent) {
    /** The factor for a host that joined {@code ageMs} ago: 1 once out of the window. */
    public double factor(long ageMs) {
      if (ageMs >= windowMs) {
        return 1.0;
      }
      double time = Math.max(ageMs / 1000.0, 1.0) / (windowMs / 1000.0);
      return Math.min(1.0, Math.max(minWeightPercent / 100.0, Math.pow(time, 1.0 / aggression)));
    }
  }

  /** TCP keep-alive: probes, idle time and interval in seconds; 0 keeps the system's value. */
  public record Keepalive(int probes, int timeS, int intervalS) {}

  /** The cluster discovery types bowline supports so far. */
  public enum DiscoveryType { STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST }

  /** Load-balancing policies bowline supports so far. */
  public enum LbPolicy { ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV, CLUSTER_PROVIDED }

  /**
   * An ORIGINAL_DST cluster: requests go where they were addressed — the {@code headerName} header's {@code ip:port}
   * when set ({@code use_http_header}), else the downstream connection's original destination — on
   * {@code portOverride} when above 0; hosts made on demand are dropped after {@code cleanupMs} unused.
   */
  public record OriginalDst(@Nullable String headerName, int portOverride, long cleanupMs) {}

  /** The protocol spoken to the cluster's endpoints. */
  public enum UpstreamProtocol { HTTP1, HTTP2, USE_DOWNSTREAM }

  /**
   * One endpoint as configured: a literal address or a DNS name to resolve, its endpoint hostname, its locality's
   * share (the locality's load_balancing_weight over the sum of its endpoints' weights; 0 = none given), its priority,
   * whether EDS says it is healthy (unhealthy endpoints take no traffic but count in their priority's health), and
   * its load assignment's overprovisioning factor (percent, Envoy's default 140).
   */
  /** @param locality the endpoint's locality as {@link #localityKey} writes it ("" when it has none) */
  public record EndpointConfig(String host, int port, int weight, String hostname, double localityShare,
      int priority, boolean healthy, boolean degraded, int overprovisioningFactor,
      java.net.@Nullable InetAddress literal, String locality, HealthCheckTarget healthCheck,
      java.util.Map<String, com.google.protobuf.Struct> filterMetadata) {
    public EndpointConfig(String host, int port, int weight, String hostname) {
      this(host, port, weight, hostname, 0, 0, true, false, 140, null, "", HealthCheckTarget.DEFAULT,
          java.util.Map.of());
    }

    /** The same endpoint with its locality's share of the weight. */
    public EndpointConfig withLocalityShare(double share) {
      return new EndpointConfig(host, port, weight, hostname, share, priority, healthy, degraded,
          overprovisioningFactor, literal, locality, healthCheck, filterMetadata);
    }
  }

  /**
   * One of {@code transport_socket_matches}: endpoints whose {@code envoy.transport_socket_match} metadata has every
   * field of {@code match} use this TLS context (null: plaintext). Istio's auto mTLS: {@code tlsMode: istio}.
   */
  public record TransportSocketMatch(String name, java.util.Map<String, com.google.protobuf.Value> match,
      @Nullable TlsContextSource tls, @Nullable String sni) {
    public boolean matches(java.util.Map<String, com.google.protobuf.Value> endpoint) {
      for (var e : match.entrySet()) {
        if (!e.getValue().equals(endpoint.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * An endpoint's {@code health_check_config}: checks go to {@code port} (0: the endpoint's own) with {@code hostname}
   * as the HTTP Host ("" : the cluster's), or are not made at all.
   */
  public record HealthCheckTarget(int port, String hostname, boolean disabled) {
    public static final HealthCheckTarget DEFAULT = new HealthCheckTarget(0, "", false);
  }

  /** A locality (region, zone, sub-zone) as one comparable key; "" for none. */
  public static String localityKey(io.envoyproxy.envoy.config.core.v3.Locality l) {
    return l.getRegion().isEmpty() && l.getZone().isEmpty() && l.getSubZone().isEmpty() ? ""
        : l.getRegion() + "/" + l.getZone() + "/" + l.getSubZone();
  }

  /**
   * {@code common_lb_config.zone_aware_lb_config}, with Envoy's defaults: zone-aware routing applies to this share of
   * requests (parts per million), once the cluster has at least {@code minClusterSize} healthy hosts.
   */
  public record ZoneAware(int routingEnabledPerMillion, int minClusterSize) {
    public static final ZoneAware DEFAULT = new ZoneAware(1_000_000, 6);
  }

  /**
   * Circuit-breaker thresholds of the default priority; Envoy's defaults are 1024 each and 3 retries. With a
   * {@code retry_budget} ({@code retryBudgetPercent} at least 0), concurrent retries are capped by that share of the
   * requests active and pending, but never below {@code minRetryConcurrency}, and {@code maxRetries} does not apply.
   */
  public record Thresholds(long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries,
      boolean trackRemaining, double retryBudgetPercent, int minRetryConcurrency, long maxConnectionPools) {
    public static final Thresholds DEFAULT = new Thresholds(1024, 1024, 1024, 3, false, -1, 3, Long.MAX_VALUE);
  }

  /** {@code outlier_detection}, with Envoy's defaults; percentages 0–100. */
  public record Outlier(int consecutive5xx, int consecutiveGatewayFailure, int consecutiveLocalOriginFailure,
      int enforcingConsecutive5xx, int enforcingConsecutiveGatewayFailure, int enforcingConsecutiveLocalOriginFailure,
      boolean splitExternalLocalOriginErrors, long intervalMs, long baseEjectionTimeMs, long maxEjectionTimeMs,
      int maxEjectionPercent, int enforcingSuccessRate, int successRateMinimumHosts, int successRateRequestVolume,
      double successRateStdevFactor, int enforcingFailurePercentage, int failurePercentageThreshold,
      int failurePercentageMinimumHosts, int failurePercentageRequestVolume, long maxEjectionTimeJitterMs) {}

  /** {@code dns_lookup_family}. */
  public enum DnsFamily { AUTO, V4_ONLY, V6_ONLY, V4_PREFERRED, ALL }
}
