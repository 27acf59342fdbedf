package io.bowline.core.compile;

import com.google.protobuf.Any;
import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.HcmConfig;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** {@code config.cluster.v3.Cluster} into {@link ClusterConfig}. */
public final class ClusterCompiler {
  private static final String HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private ClusterCompiler() {}

  /** {@code circuit_breakers}: the DEFAULT priority's thresholds (HIGH is accepted; bowline routes at DEFAULT). */
  static ClusterConfig.Thresholds thresholds(Cluster c, String path) throws ConfigException {
    if (!c.hasCircuitBreakers()) {
      return ClusterConfig.Thresholds.DEFAULT;
    }
    var cb = c.getCircuitBreakers();
    Fields.allow(cb, path + ".circuit_breakers", "thresholds");
    ClusterConfig.Thresholds result = ClusterConfig.Thresholds.DEFAULT;
    for (int i = 0; i < cb.getThresholdsCount(); i++) {
      var t = cb.getThresholds(i);
      String tp = path + ".circuit_breakers.thresholds[" + i + "]";
      Fields.allow(t, tp, "priority", "max_connections", "max_pending_requests", "max_requests", "max_retries",
          "track_remaining", "retry_budget", "max_connection_pools");
      if (t.getPriority() != io.envoyproxy.envoy.config.core.v3.RoutingPriority.DEFAULT) {
        continue;
      }
      result = new ClusterConfig.Thresholds(
          t.hasMaxConnections() ? t.getMaxConnections().getValue() & 0xffffffffL : 1024,
          t.hasMaxPendingRequests() ? t.getMaxPendingRequests().getValue() & 0xffffffffL : 1024,
          t.hasMaxRequests() ? t.getMaxRequests().getValue() & 0xffffffffL : 1024,
          t.hasMaxRetries() ? t.getMaxRetries().getValue() & 0xffffffffL : 3,
          t.getTrackRemaining(), budget(t, tp), t.getRetryBudget().hasMinRetryConcurrency()
              ? (int) Math.min(Integer.MAX_VALUE, t.getRetryBudget().getMinRetryConcurrency().getValue() & 0xffffffffL)
              : 3,
          t.hasMaxConnectionPools() ? t.getMaxConnectionPools().getValue() & 0xffffffffL : Long.MAX_VALUE);
    }
    return result;
  }

  /** {@code retry_budget.budget_percent}: -1 without a budget, Envoy's 20% when the budget leaves it out. */
  private static double budget(io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.Thresholds t, String path)
      throws ConfigException {
    if (!t.hasRetryBudget()) {
      return -1;
    }
    var b = t.getRetryBudget();
    Fields.allow(b, path + ".retry_budget", "budget_percent", "min_retry_concurrency");
    double pct = b.hasBudgetPercent() ? b.getBudgetPercent().getValue() : 20.0;
    if (pct < 0 || pct > 100) {
      throw new ConfigException(path + ".retry_budget.budget_percent", "must be in [0, 100], got " + pct);
    }
    return pct;
  }

  /** {@code outlier_detection}: Envoy's defaults for every field left out. */
  static ClusterConfig.@org.jspecify.annotations.Nullable Outlier outlier(Cluster c, String path)
      throws ConfigException {
    if (!c.hasOutlierDetection()) {
      return null;
    }
    var o = c.getOutlierDetection();
    String p = path + ".outlier_detection";
    Fields.allow(o, p, "consecutive_5xx", "consecutive_gateway_failure", "consecutive_local_origin_failure",
        "enforcing_consecutive_5xx", "enforcing_consecutive_gateway_failure",
        "enforcing_consecutive_local_origin_failure", "split_external_local_origin_errors", "interval",
        "base_ejection_time", "max_ejection_time", "max_ejection_percent", "enforcing_success_rate",
        "success_rate_minimum_hosts", "success_rate_request_volume", "success_rate_stdev_factor",
        "enforcing_failure_percentage", "failure_percentage_threshold", "failure_percentage_minimum_hosts",
        "failure_percentage_request_volume", "max_ejection_time_jitter");
    return new ClusterConfig.Outlier(
        o.hasConsecutive5Xx() ? o.getConsecutive5Xx().getValue() : 5,
        o.hasConsecutiveGatewayFailure() ? o.getConsecutiveGatewayFailure().getValue() : 5,
        o.hasConsecutiveLocalOriginFailure() ? o.getConsecutiveLocalOriginFailure().getValue() : 5,
        o.hasEnforcingConsecutive5Xx() ? o.getEnforcingConsecutive5Xx().getValue() : 100,
        o.hasEnforcingConsecutiveGatewayFailure() ? o.getEnforcingConsecutiveGatewayFailure().getValue() : 0,
        o.hasEnforcingConsecutiveLocalOriginFailure() ? o.getEnforcingConsecutiveLocalOriginFailure().getValue() : 100,
        o.getSplitExternalLocalOriginErrors(),
        o.hasInterval() ? Math.max(1, Fields.millis(o.getInterval())) : 10_000,
        o.hasBaseEjectionTime() ? Fields.millis(o.getBaseEjectionTime()) : 30_000,
        o.hasMaxEjectionTime() ? Fields.millis(o.getMaxEjectionTime()) : 300_000,
        o.hasMaxEjectionPercent() ? Math.min(100, o.getMaxEjectionPercent().getValue()) : 10,
        o.hasEnforcingSuccessRate() ? o.getEnforcingSuccessRate().getValue() : 100,
        o.hasSuccessRateMinimumHosts() ? o.getSuccessRateMinimumHosts().getValue() : 5,
        o.hasSuccessRateRequestVolume() ? o.getSuccessRateRequestVolume().getValue() : 100,
        (o.hasSuccessRateStdevFactor() ? o.getSuccessRateStdevFactor().getValue() : 1900) / 1000.0,
        o.hasEnforcingFailurePercentage() ? o.getEnforcingFailurePercentage().getValue() : 0,
        o.hasFailurePercentageThreshold() ? o.getFailurePercentageThreshold().getValue() : 85,
        o.hasFailurePercentageMinimumHosts() ? o.getFailurePercentageMinimumHosts().getValue() : 5,
        o.hasFailurePercentageRequestVolume() ? o.getFailurePercentageRequestVolume().getValue() : 50,
        o.hasMaxEjectionTimeJitter() ? Fields.millis(o.getMaxEjectionTimeJitter()) : 0);
  }

  private static double activeRequestBias(Cluster c, String path) throws ConfigException {
    if (!c.hasLeastRequestLbConfig()) {
      return 1.0;
    }
    var lr = c.getLeastRequestLbConfig();
    Fields.allow(lr, path + ".least_request_lb_config", "choice_count", "active_request_bias", "slow_start_config");
    if (!lr.hasActiveRequestBias()) {
      return 1.0;
    }
    double bias = lr.getActiveRequestBias().getDefaultValue();
    if (bias < 0) {
      throw new ConfigException(path + ".least_request_lb_config.active_request_bias", "must not be negative");
    }
    return bias;
  }

  /** slow_start_config of round_robin_lb_config or least_request_lb_config (whichever the lb_policy uses). */
  private static ClusterConfig.@org.jspecify.annotations.Nullable SlowStart slowStart(Cluster c, String path)
      throws ConfigException {
    io.envoyproxy.envoy.config.cluster.v3.Cluster.SlowStartConfig s;
    String sp;
    if (c.hasRoundRobinLbConfig()) {
      Fields.allow(c.getRoundRobinLbConfig(), path + ".round_robin_lb_config", "slow_start_config");
      s = c.getRoundRobinLbConfig().hasSlowStartConfig() ? c.getRoundRobinLbConfig().getSlowStartConfig() : null;
      sp = path + ".round_robin_lb_config.slow_start_config";
    } else if (c.hasLeastRequestLbConfig() && c.getLeastRequestLbConfig().hasSlowStartConfig()) {
      s = c.getLeastRequestLbConfig().getSlowStartConfig();
      sp = path + ".least_request_lb_config.slow_start_config";
    } else {
      return null;
    }
    if (s == null) {
      return null;
    }
    Fields.allow(s, sp, "slow_start_window", "aggression", "min_weight_percent");
    long window = s.hasSlowStartWindow() ? Fields.millis(s.getSlowStartWindow()) : 0;
    if (window <= 0) {
      return null; // no window: no slow start
    }
    double aggression = s.hasAggression() ? s.getAggression().getDefaultValue() : 1.0;
    if (aggression <= 0) {
      throw new ConfigException(sp + ".aggression", "must be greater than 0");
    }
    double min = s.hasMinWeightPercent() ? s.getMinWeightPercent().getValue() : 10.0;
    return new ClusterConfig.SlowStart(window, aggression, min);
  }

  private static ClusterConfig.UpstreamSocket socket(Cluster c, String path) throws ConfigException {
    java.net.InetSocketAddress source = null;
    if (c.hasUpstreamBindConfig()) {
      var bind = c.getUpstreamBindConfig();
      String bp = path + ".upstream_bind_config";
      Fields.allow(bind, bp, "source_address");
      var sa = bind.getSourceAddress();
      Fields.allow(sa, bp + ".source_address", "address", "port_value", "protocol");
      source = new java.net.InetSocketAddress(ListenerCompiler.literal(sa.getAddress(),
          bp + ".source_address.address"), sa.getPortValue());
    }
    ClusterConfig.Keepalive keepalive = null;
    if (c.hasUpstreamConnectionOptions()) {
      var o = c.getUpstreamConnectionOptions();
      String op = path + ".upstream_connection_options";
      Fields.allow(o, op, "tcp_keepalive");
      if (o.hasTcpKeepalive()) {
        var k = o.getTcpKeepalive();
        Fields.allow(k, op + ".tcp_keepalive", "keepalive_probes", "keepalive_time", "keepalive_interval");
        keepalive = new ClusterConfig.Keepalive(k.getKeepaliveProbes().getValue(), k.getKeepaliveTime().getValue(),
            k.getKeepaliveInterval().getValue());
      }
    }
    return source == null && keepalive == null ? ClusterConfig.UpstreamSocket.DEFAULT
        : new ClusterConfig.UpstreamSocket(source, keepalive);
  }

  public static ClusterConfig compile(Cluster c, String path) throws ConfigException {
    return compile(c, path, null);
  }

  /** The same; {@code ctx} (the filter registry and this node) compiles the cluster's upstream {@code filters}. */
  public static ClusterConfig compile(Cluster c, String path, @Nullable CompileContext ctx) throws ConfigException {
    return compile(c, null, path, ctx);
  }

  /**
   * The same for a cluster that arrived as {@code wire} (an xDS resource's bytes): kept as the cluster's definition,
   * where one from a file is serialized here — on a cold JVM serializing ten thousand clusters costs more than
   * compiling them.
   */
  public static ClusterConfig compile(Cluster c, com.google.protobuf.@Nullable ByteString wire, String path,
      @Nullable CompileContext ctx) throws ConfigException {
    Fields.allow(c, path, "filters", "transport_socket_matches", "name", "type", "connect_timeout", "lb_policy", "load_assignment", "dns_lookup_family",
        "dns_refresh_rate", "transport_socket", "typed_extension_protocol_options", "http2_protocol_options",
        "per_connection_buffer_limit_bytes", "least_request_lb_config", "round_robin_lb_config",
        "max_requests_per_connection",
        "eds_cluster_config", "circuit_breakers", "metadata", "outlier_detection", "common_lb_config",
        "ring_hash_lb_config", "maglev_lb_config", "upstream_bind_config", "upstream_connection_options",
        "original_dst_lb_config", "cleanup_interval",
        "respect_dns_ttl", "health_checks");
    var ring = c.getRingHashLbConfig();
    Fields.allow(ring, path + ".ring_hash_lb_config", "minimum_ring_size", "maximum_ring_size", "hash_function");
    if (ring.getHashFunction() != io.envoyproxy.envoy.config.cluster.v3.Cluster.RingHashLbConfig.HashFunction.XX_HASH) {
      throw new ConfigException(path + ".ring_hash_lb_config.hash_function", "only XX_HASH is supported");
    }
    long ringMin = ring.hasMinimumRingSize() ? ring.getMinimumRingSize().getValue() : 1024;
    long ringMax = ring.hasMaximumRingSize() ? ring.getMaximumRingSize().getValue() : 8 * 1024 * 1024;
    if (ringMin < 1 || ringMax < ringMin) {
      throw new ConfigException(path + ".ring_hash_lb_config", "minimum_ring_size must be >= 1 and <= maximum_ring_size");
    }
    var maglev = c.getMaglevLbConfig();
    Fields.allow(maglev, path + ".maglev_lb_config", "table_size");
    long table = maglev.hasTableSize() ? maglev.getTableSize().getValue() : 65537;
    // the primality test is costly next to the rest of a cluster's compile: run it only for a configured size
    if (table < 2 || table > 5_000_011 || table != 65537 && !java.math.BigInteger.valueOf(table).isProbablePrime(30)) {
      throw new ConfigException(path + ".maglev_lb_config.table_size", "must be a prime up to 5000011, got " + table);
    }
    var lbCommon = c.getCommonLbConfig();
    Fields.allow(lbCommon, path + ".common_lb_config", "healthy_panic_threshold", "locality_weighted_lb_config",
        "zone_aware_lb_config");
    ClusterConfig.ZoneAware zoneAware = ClusterConfig.ZoneAware.DEFAULT;
    if (lbCommon.hasZoneAwareLbConfig()) {
      var z = lbCommon.getZoneAwareLbConfig();
      String zp = path + ".common_lb_config.zone_aware_lb_config";
      Fields.allow(z, zp, "routing_enabled", "min_cluster_size");
      double enabled = z.hasRoutingEnabled() ? z.getRoutingEnabled().getValue() : 100;
      if (enabled < 0 || enabled > 100) {
        throw new ConfigException(zp + ".routing_enabled", "must be in [0, 100], got " + enabled);
      }
      zoneAware = new ClusterConfig.ZoneAware((int) Math.round(enabled * 10_000),
          z.hasMinClusterSize() ? (int) Math.min(Integer.MAX_VALUE, z.getMinClusterSize().getValue()) : 6);
    }
    int panic = lbCommon.hasHealthyPanicThreshold()
        ? (int) Math.round(Math.max(0, Math.min(100, lbCommon.getHealthyPanicThreshold().getValue()))) : 50;
    if (c.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "required");
    }
    ClusterConfig.DiscoveryType type = switch (c.getType()) {
      case STATIC -> ClusterConfig.DiscoveryType.STATIC;
      case STRICT_DNS -> ClusterConfig.DiscoveryType.STRICT_DNS;
      case LOGICAL_DNS -> ClusterConfig.DiscoveryType.LOGICAL_DNS;
      case EDS -> ClusterConfig.DiscoveryType.EDS;
      case ORIGINAL_DST -> ClusterConfig.DiscoveryType.ORIGINAL_DST;
      default -> throw new ConfigException(path + ".type", c.getType() + " is not supported by bowline yet");
    };
    ClusterConfig.OriginalDst originalDst = null;
    if (type == ClusterConfig.DiscoveryType.ORIGINAL_DST) {
      if (c.getLbPolicy() != io.envoyproxy.envoy.config.cluster.v3.Cluster.LbPolicy.CLUSTER_PROVIDED) {
        throw new ConfigException(path + ".lb_policy", "an ORIGINAL_DST cluster takes CLUSTER_PROVIDED, got "
            + c.getLbPolicy());
      }
      if (c.hasLoadAssignment()) {
        throw new ConfigException(path + ".load_assignment", "an ORIGINAL_DST cluster has no configured endpoints");
      }
      var od = c.getOriginalDstLbConfig();
      Fields.allow(od, path + ".original_dst_lb_config", "use_http_header", "http_header_name",
          "upstream_port_override");
      String header = !od.getUseHttpHeader() ? null : od.getHttpHeaderName().isEmpty()
          ? "x-envoy-original-dst-host" : od.getHttpHeaderName().toLowerCase(java.util.Locale.ROOT);
      int port = od.hasUpstreamPortOverride() ? od.getUpstreamPortOverride().getValue() : 0;
      if (port > 65535) {
        throw new ConfigException(path + ".original_dst_lb_config.upstream_port_override", "not a port: " + port);
      }
      originalDst = new ClusterConfig.OriginalDst(header, port,
          c.hasCleanupInterval() ? Math.max(1, Fields.millis(c.getCleanupInterval())) : 5000);
    }
    ClusterConfig.LbPolicy lb = switch (c.getLbPolicy()) {
      case ROUND_ROBIN -> ClusterConfig.LbPolicy.ROUND_ROBIN;
      case LEAST_REQUEST -> ClusterConfig.LbPolicy.LEAST_REQUEST;
      case RANDOM -> ClusterConfig.LbPolicy.RANDOM;
      case RING_HASH -> ClusterConfig.LbPolicy.RING_HASH;
      case MAGLEV -> ClusterConfig.LbPolicy.MAGLEV;
      case CLUSTER_PROVIDED -> {
        if (type != ClusterConfig.DiscoveryType.ORIGINAL_DST) {
          throw new ConfigException(path + ".lb_policy", "CLUSTER_PROVIDED is for ORIGINAL_DST clusters");
        }
        yield ClusterConfig.LbPolicy.CLUSTER_PROVIDED;
      }
      default -> throw new ConfigException(path + ".lb_policy", c.getLbPolicy() + " is not supported by bowline yet");
    };
    String edsServiceName = null;
    List<ClusterConfig.EndpointConfig> endpoints = List.of();
    if (type == ClusterConfig.DiscoveryType.EDS) {
      var eds = c.getEdsClusterConfig();
      Fields.allow(eds, path + ".eds_cluster_config", "eds_config", "service_name");
      ConfigSources.requireAds(eds.getEdsConfig(), path + ".eds_cluster_config.eds_config");
      edsServiceName = eds.getServiceName().isEmpty() ? c.getName() : eds.getServiceName();
      if (c.hasLoadAssignment()) {
        throw new ConfigException(path + ".load_assignment", "an EDS cluster takes its endpoints from EDS");
      }
    } else if (type != ClusterConfig.DiscoveryType.ORIGINAL_DST) {
      endpoints = EndpointCompiler.compile(c.getLoadAssignment(), path + ".load_assignment",
          type == ClusterConfig.DiscoveryType.STATIC);
    }
    if (type == ClusterConfig.DiscoveryType.LOGICAL_DNS && endpoints.size() != 1) {
      throw new ConfigException(path + ".load_assignment", "LOGICAL_DNS clusters need exactly one endpoint");
    }
    ClusterConfig.UpstreamProtocol protocol = c.hasHttp2ProtocolOptions()
        ? ClusterConfig.UpstreamProtocol.HTTP2 : ClusterConfig.UpstreamProtocol.HTTP1;
    long idle = 3_600_000;
    int maxRequests = c.hasMaxRequestsPerConnection() ? c.getMaxRequestsPerConnection().getValue() : 0;
    int maxResponseHeaders = 100; // Envoy's default for max_headers_count
    boolean http1Trailers = false;
    for (Map.Entry<String, Any> e : c.getTypedExtensionProtocolOptionsMap().entrySet()) {
      String op = path + ".typed_extension_protocol_options[" + e.getKey() + "]";
      String t = Fields.typeName(e.getValue());
      if (!t.equals(HTTP_OPTIONS)) {
        throw new ConfigException(op, "protocol options " + t + " are not supported by bowline yet");
      }
      HttpProtocolOptions o = Fields.unpack(e.getValue(), HttpProtocolOptions.class, op);
      Fields.allow(o, op, "explicit_http_config", "use_downstream_protocol_config", "common_http_protocol_options");
      if (o.hasExplicitHttpConfig()) {
        protocol = o.getExplicitHttpConfig().hasHttp2ProtocolOptions() ? ClusterConfig.UpstreamProtocol.HTTP2
            : ClusterConfig.UpstreamProtocol.HTTP1;
        if (o.getExplicitHttpConfig().hasHttp3ProtocolOptions()) {
          throw new ConfigException(op + ".explicit_http_config.http3_protocol_options", "HTTP/3 upstreams are not "
              + "supported by bowline yet");
        }
        http1Trailers = http1Trailers(o.getExplicitHttpConfig().getHttpProtocolOptions(),
            op + ".explicit_http_config.http_protocol_options");
      } else if (o.hasUseDownstreamProtocolConfig()) {
        protocol = ClusterConfig.UpstreamProtocol.USE_DOWNSTREAM;
        http1Trailers = http1Trailers(o.getUseDownstreamProtocolConfig().getHttpProtocolOptions(),
            op + ".use_downstream_protocol_config.http_protocol_options");
      } else {
        throw new ConfigException(op, "explicit_http_config or use_downstream_protocol_config is required "
            + "(auto_config is not supported by bowline yet)");
      }
      var common = o.getCommonHttpProtocolOptions();
      Fields.allow(common, op + ".common_http_protocol_options", "idle_timeout", "max_requests_per_connection",
          "max_headers_count");
      if (common.hasIdleTimeout()) {
        idle = Fields.millis(common.getIdleTimeout());
      }
      if (common.hasMaxRequestsPerConnection()) {
        maxRequests = common.getMaxRequestsPerConnection().getValue();
      }
      if (common.hasMaxHeadersCount()) {
        maxResponseHeaders = common.getMaxHeadersCount().getValue();
        if (maxResponseHeaders < 1) {
          throw new ConfigException(op + ".common_http_protocol_options.max_headers_count", "must be at least 1");
        }
      }
    }
    TlsCompiler.UpstreamTls tls = c.hasTransportSocket() ? TlsCompiler.upstream(c.getTransportSocket(),
        path + ".transport_socket", protocol != ClusterConfig.UpstreamProtocol.HTTP1) : null;
    int choice = c.hasLeastRequestLbConfig() && c.getLeastRequestLbConfig().hasChoiceCount()
        ? c.getLeastRequestLbConfig().getChoiceCount().getValue() : 2;
    int limit = c.hasPerConnectionBufferLimitBytes() ? c.getPerConnectionBufferLimitBytes().getValue() : 1024 * 1024;
    return new ClusterConfig(c.getName(), type, endpoints,
        c.hasConnectTimeout() ? Fields.millis(c.getConnectTimeout()) : 5000, lb, choice, protocol,
        tls == null ? null : tls.context(), tls == null ? null : tls.sni(), tls != null && tls.autoSni(),
        c.hasDnsRefreshRate() ? Math.max(1, Fields.millis(c.getDnsRefreshRate())) : 5000, idle, maxRequests,
        maxResponseHeaders, http1Trailers,
        new HcmConfig.Http2Settings(1024, 16 * 1024 * 1024, 24 * 1024 * 1024), Math.max(1024, limit),
        switch (c.getDnsLookupFamily()) {
          case V4_ONLY -> ClusterConfig.DnsFamily.V4_ONLY;
          case V6_ONLY -> ClusterConfig.DnsFamily.V6_ONLY;
          case V4_PREFERRED -> ClusterConfig.DnsFamily.V4_PREFERRED;
          case ALL -> ClusterConfig.DnsFamily.ALL;
          default -> ClusterConfig.DnsFamily.AUTO;
        }, edsServiceName, thresholds(c, path), outlier(c, path), panic, ringMin, Math.min(ringMax, 8 * 1024 * 1024), (int) table, lbCommon.hasLocalityWeightedLbConfig(),
        socket(c, path), activeRequestBias(c, path), slowStart(c, path), originalDst,
        HealthChecks.compile(c, path), zoneAware, wire != null ? wire : c.toByteString(), // an update compares them
        upstreamFilters(c, path, ctx), socketMatches(c, path, protocol));
  }

  /** {@code transport_socket_matches}: a TLS context (or plaintext) per kind of endpoint, in order. */
  private static List<ClusterConfig.TransportSocketMatch> socketMatches(Cluster c, String path,
      ClusterConfig.UpstreamProtocol protocol) throws ConfigException {
    List<ClusterConfig.TransportSocketMatch> out = new ArrayList<>();
    for (int i = 0; i < c.getTransportSocketMatchesCount(); i++) {
      var m = c.getTransportSocketMatches(i);
      String mp = path + ".transport_socket_matches[" + i + "]";
      Fields.allow(m, mp, "name", "match", "transport_socket");
      TlsCompiler.UpstreamTls tls = m.hasTransportSocket() ? TlsCompiler.upstream(m.getTransportSocket(),
          mp + ".transport_socket", protocol != ClusterConfig.UpstreamProtocol.HTTP1) : null;
      out.add(new ClusterConfig.TransportSocketMatch(m.getName(), Map.copyOf(m.getMatch().getFieldsMap()),
          tls == null ? null : tls.context(), tls == null ? null : tls.sni()));
    }
    return out;
  }

  /** Istio's TCP metadata exchange is the one upstream network filter bowline has. */
  private static final String METADATA_EXCHANGE = "envoy.tcp.metadataexchange.config.MetadataExchange";

  /** The cluster's upstream network {@code filters}: handlers on each upstream connection, given its ALPN. */
  private static List<io.bowline.core.filter.ConnectionGate> upstreamFilters(Cluster c, String path,
      @Nullable CompileContext ctx) throws ConfigException {
    List<io.bowline.core.filter.ConnectionGate> out = new ArrayList<>();
    for (int i = 0; i < c.getFiltersCount(); i++) {
      var f = c.getFilters(i);
      String fp = path + ".filters[" + i + "]";
      Fields.allow(f, fp, "name", "typed_config");
      String type = io.bowline.core.filter.FilterRegistry.configTypeName(f.getTypedConfig());
      if (!type.equals(METADATA_EXCHANGE)) {
        throw new ConfigException(fp, "upstream network filter " + type + " is not supported by bowline yet (Istio's "
            + METADATA_EXCHANGE + " is)");
      }
      var gate = ctx == null ? null : ctx.filters().connectionGate(f.getTypedConfig(),
          new io.bowline.core.filter.HttpFilterFactory.FactoryContext(ctx.stats().scope(""), fp, f.getName(),
              ctx.clusterDirectory(), ctx.listenerContext(io.bowline.core.filter.ListenerContext.Direction.OUTBOUND)));
      if (gate == null) {
        throw new ConfigException(fp, "upstream network filter " + type + " is not in this binary's filter registry");
      }
      out.add(gate);
    }
    return out;
  }

  /** An HTTP/1.1 upstream's {@code http_protocol_options}: whether its trailers pass ({@code enable_trailers}). */
  private static boolean http1Trailers(io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions h1, String path)
      throws ConfigException {
    Fields.allow(h1, path, "enable_trailers");
    return h1.getEnableTrailers();
  }
}
