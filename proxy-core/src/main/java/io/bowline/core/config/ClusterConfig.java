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
    com.google.protobuf.ByteString protoBytes) {

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
  }

  /** The cluster discovery types bowline supports so far. */
  public enum DiscoveryType { STATIC, STRICT_DNS, LOGICAL_DNS, EDS }

  /** Load-balancing policies bowline supports so far. */
  public enum LbPolicy { ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV }

  /** The protocol spoken to the cluster's endpoints. */
  public enum UpstreamProtocol { HTTP1, HTTP2, USE_DOWNSTREAM }

  /** One endpoint as configured: a literal address or a DNS name to resolve, and its endpoint hostname. */
  /**
   * One endpoint as configured: a literal address or a DNS name to resolve, its endpoint hostname, and its
   * locality's share (the locality's load_balancing_weight over the sum of its endpoints' weights; 0 = none given).
   */
  public record EndpointConfig(String host, int port, int weight, String hostname, double localityShare) {
    public EndpointConfig(String host, int port, int weight, String hostname) {
      this(host, port, weight, hostname, 0);
    }
  }

  /** Circuit-breaker thresholds of the default priority; Envoy's defaults are 1024 each and 3 retries. */
  public record Thresholds(long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries,
      boolean trackRemaining) {
    public static final Thresholds DEFAULT = new Thresholds(1024, 1024, 1024, 3, false);
  }

  /** {@code outlier_detection}, with Envoy's defaults; percentages 0–100. */
  public record Outlier(int consecutive5xx, int consecutiveGatewayFailure, int consecutiveLocalOriginFailure,
      int enforcingConsecutive5xx, int enforcingConsecutiveGatewayFailure, int enforcingConsecutiveLocalOriginFailure,
      boolean splitExternalLocalOriginErrors, long intervalMs, long baseEjectionTimeMs, long maxEjectionTimeMs,
      int maxEjectionPercent, int enforcingSuccessRate, int successRateMinimumHosts, int successRateRequestVolume,
      double successRateStdevFactor, int enforcingFailurePercentage, int failurePercentageThreshold,
      int failurePercentageMinimumHosts, int failurePercentageRequestVolume) {}

  /** {@code dns_lookup_family}. */
  public enum DnsFamily { AUTO, V4_ONLY, V6_ONLY, V4_PREFERRED, ALL }
}
