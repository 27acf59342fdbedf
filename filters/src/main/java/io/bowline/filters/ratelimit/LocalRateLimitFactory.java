package io.bowline.filters.ratelimit;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.local_ratelimit}: a token bucket per filter config (connection manager level, or per
 * route through {@code typed_per_filter_config}), shared by every event loop. As in Envoy, the filter acts only
 * where {@code filter_enabled} says so, and answers 429 ({@code RL}) only where {@code filter_enforced} does.
 */
public final class LocalRateLimitFactory implements HttpFilterFactory<LocalRateLimit> {
  @Override
  public String name() {
    return "envoy.filters.http.local_ratelimit";
  }

  @Override
  public Class<LocalRateLimit> configType() {
    return LocalRateLimit.class;
  }

  @Override
  public LocalRateLimit defaultConfig() {
    return LocalRateLimit.getDefaultInstance();
  }

  /** One compiled config: its bucket (null: no bucket, the filter passes), shares, status and stats. */
  record Limit(@Nullable TokenBucket bucket, int enabledPerMillion, int enforcedPerMillion, int status,
      boolean xRateLimitHeaders, java.util.List<String[]> responseHeaders, Counter enabled, Counter enforced,
      Counter rateLimited, Counter ok) {}

  @Override
  public HttpFilterProvider create(LocalRateLimit config, FactoryContext context) throws ConfigException {
    Limit base = compile(config, context.fieldPath() + ".typed_config", context.stats().stats());
    String filterName = context.filterName();
    return callbacks -> new LocalRateLimitFilter(base, filterName, callbacks);
  }

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    try {
      return compile(typedConfig.unpack(LocalRateLimit.class), path, null);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "expected LocalRateLimit: " + e.getMessage(), e);
    }
  }

  static Limit compile(LocalRateLimit c, String path, @Nullable Stats stats) throws ConfigException {
    if (c.getRateLimitsCount() > 0 || c.getDescriptorsCount() > 0) {
      throw new ConfigException(path + (c.getRateLimitsCount() > 0 ? ".rate_limits" : ".descriptors"),
          "rate limit descriptors are not supported by bowline yet");
    }
    if (c.hasLocalClusterRateLimit() || c.getLocalRateLimitPerDownstreamConnection()) {
      throw new ConfigException(path, "local_cluster_rate_limit and per-connection buckets are not supported by "
          + "bowline yet");
    }
    if (c.getRequestHeadersToAddWhenNotEnforcedCount() > 0) {
      throw new ConfigException(path + ".request_headers_to_add_when_not_enforced", "not supported by bowline yet");
    }
    java.util.List<String[]> headers = new java.util.ArrayList<>();
    for (int i = 0; i < c.getResponseHeadersToAddCount(); i++) {
      var hv = c.getResponseHeadersToAdd(i);
      if (hv.getHeader().getKey().isEmpty()) {
        throw new ConfigException(path + ".response_headers_to_add[" + i + "].header.key", "required");
      }
      headers.add(new String[] {hv.getHeader().getKey().toLowerCase(java.util.Locale.ROOT),
          hv.getHeader().getValue()});
    }
    if (c.getStatPrefix().isEmpty()) {
      throw new ConfigException(path + ".stat_prefix", "required");
    }
    TokenBucket bucket = null;
    if (c.hasTokenBucket()) {
      var tb = c.getTokenBucket();
      long fillMs = tb.getFillInterval().getSeconds() * 1000 + tb.getFillInterval().getNanos() / 1_000_000;
      if (tb.getMaxTokens() == 0 || fillMs < 50) {
        throw new ConfigException(path + ".token_bucket", "max_tokens > 0 and fill_interval >= 50 ms are required");
      }
      long perFill = tb.hasTokensPerFill() ? tb.getTokensPerFill().getValue() : 1;
      bucket = new TokenBucket(tb.getMaxTokens(), perFill, fillMs);
    }
    int status = c.hasStatus() ? c.getStatus().getCodeValue() : 429;
    Stats store = stats != null ? stats : SHARED_STATS;
    var s = store.scope(c.getStatPrefix() + ".http_local_rate_limit.");
    return new Limit(bucket, perMillion(c.getFilterEnabled(), c.hasFilterEnabled(), path + ".filter_enabled"),
        perMillion(c.getFilterEnforced(), c.hasFilterEnforced(), path + ".filter_enforced"), status,
        c.getEnableXRatelimitHeadersValue() != 0, java.util.List.copyOf(headers), s.counter("enabled"),
        s.counter("enforced"), s.counter("rate_limited"), s.counter("ok"));
  }

  /** Per-route limits are compiled without the server's store; their counters live in this one, unpublished. */
  private static final Stats SHARED_STATS = new Stats();

  /** Envoy: an absent filter_enabled / filter_enforced means 0% (the filter does nothing). */
  private static int perMillion(RuntimeFractionalPercent p, boolean present, String path) throws ConfigException {
    return present ? io.bowline.core.compile.Fractions.perMillion(p.getDefaultValue(), path + ".default_value") : 0;
  }
}
