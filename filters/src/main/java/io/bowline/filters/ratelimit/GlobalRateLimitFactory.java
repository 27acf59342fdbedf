package io.bowline.filters.ratelimit;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.compile.Fractions;
import io.bowline.core.compile.RateLimits;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.router.RateLimitPolicy;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.PerCluster;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.extensions.filters.http.ratelimit.v3.RateLimit;
import io.envoyproxy.envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.ratelimit}: asks a global rate limit service ({@code envoy.service.ratelimit.v3} over gRPC,
 * on the cluster {@code rate_limit_service.grpc_service.envoy_grpc} names) whether the request's descriptors are over
 * their limit, holding the request meanwhile. Over the limit: 429 ({@code RL}); the service failing or slower than
 * {@code timeout} (20 ms by default): the request goes on, or with {@code failure_mode_deny} gets 500 ({@code RLSE}).
 */
public final class GlobalRateLimitFactory implements HttpFilterFactory<RateLimit> {
  @Override
  public String name() {
    return "envoy.filters.http.ratelimit";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.ratelimit.v3.RateLimit";
  }

  @Override
  public Class<RateLimit> configType() {
    return RateLimit.class;
  }

  @Override
  public RateLimit defaultConfig() {
    return RateLimit.getDefaultInstance();
  }

  @Override
  public List<String> routeConfigTypes() {
    return List.of("envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute");
  }

  /** Which requests the filter asks about ({@code request_type}). */
  enum RequestType { BOTH, INTERNAL, EXTERNAL }

  /** The compiled filter config. */
  record Config(String domain, int stage, RequestType requestType, long timeoutMs, boolean failureModeDeny,
      @Nullable Integer grpcStatusWhenLimited, boolean xRateLimitHeaders, boolean xEnvoyRateLimitedHeader,
      int limitedStatus, int errorStatus, List<String[]> responseHeaders, int enabledPerMillion,
      int enforcedPerMillion, RateLimitServiceClient client, StatsByCluster stats) {}

  /** {@code RateLimitPerRoute}: the domain, the virtual host's share and the route's own rate limits. */
  record PerRoute(@Nullable String domain, VhRateLimits vh, PolicyOverride override, RateLimitPolicy rateLimits) {}

  /** {@code override_option}: how the per-route {@code rate_limits} combine with the route's. */
  enum PolicyOverride { DEFAULT, OVERRIDE_POLICY, INCLUDE_POLICY, IGNORE_POLICY }

  /**
   * Envoy counts the answers under the cluster the request goes to: {@code cluster.<name>.[<stat_prefix>.]ratelimit.*},
   * resolved once per cluster name.
   */
  static final class StatsByCluster {
    private final PerCluster<Counters> byCluster;

    StatsByCluster(Stats stats, String statPrefix) {
      String infix = statPrefix.isEmpty() ? "" : statPrefix + ".";
      this.byCluster = new PerCluster<>(stats, n -> new Counters(stats.scope("cluster." + n + "." + infix
          + "ratelimit.")));
    }

    Counters of(String cluster) {
      return byCluster.of(cluster);
    }
  }

  record Counters(Counter ok, Counter overLimit, Counter error, Counter failureModeAllowed) {
    Counters(Stats.Scope s) {
      this(s.counter("ok"), s.counter("over_limit"), s.counter("error"), s.counter("failure_mode_allowed"));
    }
  }

  @Override
  public HttpFilterProvider create(RateLimit c, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    if (c.getDomain().isEmpty()) {
      throw new ConfigException(path + ".domain", "required");
    }
    if (c.getStage() > 10) {
      throw new ConfigException(path + ".stage", "must be at most 10, got " + c.getStage());
    }
    RequestType type = switch (c.getRequestType()) {
      case "", "both" -> RequestType.BOTH;
      case "internal" -> RequestType.INTERNAL;
      case "external" -> RequestType.EXTERNAL;
      default -> throw new ConfigException(path + ".request_type", "must be internal, external or both, got \""
          + c.getRequestType() + "\"");
    };
    if (!c.hasRateLimitService()) {
      throw new ConfigException(path + ".rate_limit_service", "required");
    }
    var rls = c.getRateLimitService();
    if (rls.getTransportApiVersion() != ApiVersion.V3) {
      throw new ConfigException(path + ".rate_limit_service.transport_api_version", "must be V3");
    }
    var grpc = rls.getGrpcService();
    if (!grpc.hasEnvoyGrpc()) {
      throw new ConfigException(path + ".rate_limit_service.grpc_service", "an envoy_grpc cluster is required "
          + "(google_grpc is not supported by bowline)");
    }
    String cluster = grpc.getEnvoyGrpc().getClusterName();
    if (!context.clusters().exists(cluster)) {
      throw new ConfigException(path + ".rate_limit_service.grpc_service.envoy_grpc.cluster_name",
          "unknown cluster \"" + cluster + "\"");
    }
    long timeoutMs = c.hasTimeout() ? c.getTimeout().getSeconds() * 1000 + c.getTimeout().getNanos() / 1_000_000
        : 20;
    if (grpc.hasTimeout()) { // the gRPC service's own timeout, when set, is what Envoy applies to the call
      timeoutMs = grpc.getTimeout().getSeconds() * 1000 + grpc.getTimeout().getNanos() / 1_000_000;
    }
    List<String[]> headers = new ArrayList<>();
    for (int i = 0; i < c.getResponseHeadersToAddCount(); i++) {
      var hv = c.getResponseHeadersToAdd(i);
      if (hv.getHeader().getKey().isEmpty()) {
        throw new ConfigException(path + ".response_headers_to_add[" + i + "].header.key", "required");
      }
      headers.add(new String[] {hv.getHeader().getKey().toLowerCase(Locale.ROOT), hv.getHeader().getValue()});
    }
    // Envoy: a rate_limited_status below 400 means the default, 429; status_on_error defaults to 500
    int limited = c.hasRateLimitedStatus() && c.getRateLimitedStatus().getCodeValue() >= 400
        ? c.getRateLimitedStatus().getCodeValue() : 429;
    int error = c.hasStatusOnError() ? c.getStatusOnError().getCodeValue() : 500;
    Config config = new Config(c.getDomain(), c.getStage(), type, timeoutMs, c.getFailureModeDeny(),
        c.getRateLimitedAsResourceExhausted() ? 8 : null,
        c.getEnableXRatelimitHeadersValue() != 0, !c.getDisableXEnvoyRatelimitedHeader(), limited, error,
        List.copyOf(headers),
        c.hasFilterEnabled() ? Fractions.perMillion(c.getFilterEnabled().getDefaultValue(),
            path + ".filter_enabled.default_value") : 1_000_000,
        c.hasFilterEnforced() ? Fractions.perMillion(c.getFilterEnforced().getDefaultValue(),
            path + ".filter_enforced.default_value") : 1_000_000,
        RateLimitServiceClient.of(context.clusters(), cluster),
        new StatsByCluster(context.stats().stats(), c.getStatPrefix()));
    String filterName = context.filterName();
    return callbacks -> new GlobalRateLimitFilter(config, filterName, callbacks);
  }

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    RateLimitPerRoute r;
    try {
      r = typedConfig.unpack(RateLimitPerRoute.class);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "expected RateLimitPerRoute: " + e.getMessage(), e);
    }
    VhRateLimits vh = VhRateLimits.ofNumber(r.getVhRateLimitsValue());
    PolicyOverride o = switch (r.getOverrideOption()) {
      case OVERRIDE_POLICY -> PolicyOverride.OVERRIDE_POLICY;
      case INCLUDE_POLICY -> PolicyOverride.INCLUDE_POLICY;
      case IGNORE_POLICY -> PolicyOverride.IGNORE_POLICY;
      default -> PolicyOverride.DEFAULT;
    };
    return new PerRoute(r.getDomain().isEmpty() ? null : r.getDomain(), vh, o,
        RateLimits.compile(r.getRateLimitsList(), path + ".rate_limits"));
  }
}
