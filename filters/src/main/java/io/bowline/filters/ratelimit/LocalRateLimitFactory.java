package io.bowline.filters.ratelimit;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import io.bowline.core.compile.RateLimits;
import io.bowline.core.router.RateLimitPolicy;
import io.bowline.xds.ConfigException;
import java.util.ArrayList;
import java.util.List;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.local_ratelimit}: a token bucket per filter config (connection manager level, or per
 * route through {@code typed_per_filter_config}), shared by every event loop, plus a bucket per configured
 * {@code descriptors} entry that the request's rate-limit descriptors (route, virtual host or the filter's own
 * {@code rate_limits}) match. As in Envoy, the filter acts only where {@code filter_enabled} says so, and answers 429
 * ({@code RL}) only where {@code filter_enforced} does.
 */
public final class LocalRateLimitFactory implements HttpFilterFactory<LocalRateLimit> {
  @Override
  public String name() {
    return "envoy.filters.http.local_ratelimit";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
  }

  @Override
  public Class<LocalRateLimit> configType() {
    return LocalRateLimit.class;
  }

  @Override
  public LocalRateLimit defaultConfig() {
    return LocalRateLimit.getDefaultInstance();
  }

  /**
   * One compiled config: its default bucket (null: none), its descriptor buckets, where descriptors come from, the
   * shares enabled and enforced, the reply and the stats.
   */
  record Limit(@Nullable TokenBucket bucket, List<DescriptorBucket> descriptors, boolean alwaysConsumeDefault,
      @Nullable RateLimitPolicy ownPolicy, int stage, VhRateLimits vhRateLimits, int enabledPerMillion,
      int enforcedPerMillion, int status, @Nullable Integer grpcStatus, boolean xRateLimitHeaders,
      List<String[]> responseHeaders, Counter enabled, Counter enforced, Counter rateLimited, Counter ok) {}

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
    TokenBucket bucket = c.hasTokenBucket() ? bucket(c.getTokenBucket(), path + ".token_bucket") : null;
    int maxDynamic = c.hasMaxDynamicDescriptors() ? c.getMaxDynamicDescriptors().getValue() : 20;
    if (maxDynamic < 1) {
      throw new ConfigException(path + ".max_dynamic_descriptors", "must be at least 1");
    }
    List<DescriptorBucket> descriptors = new ArrayList<>();
    java.util.Set<List<RateLimitPolicy.Entry>> seen = new java.util.HashSet<>();
    for (int i = 0; i < c.getDescriptorsCount(); i++) {
      var d = c.getDescriptors(i);
      String dp = path + ".descriptors[" + i + "]";
      if (d.getEntriesCount() == 0) {
        throw new ConfigException(dp + ".entries", "at least one entry is required");
      }
      if (!d.hasTokenBucket()) {
        throw new ConfigException(dp + ".token_bucket", "required");
      }
      List<RateLimitPolicy.Entry> entries = new ArrayList<>();
      for (int j = 0; j < d.getEntriesCount(); j++) {
        var e = d.getEntries(j);
        if (e.getKey().isEmpty()) {
          throw new ConfigException(dp + ".entries[" + j + "].key", "required");
        }
        entries.add(new RateLimitPolicy.Entry(e.getKey(), e.getValue()));
      }
      if (!seen.add(entries)) {
        throw new ConfigException(dp, "duplicate descriptor " + DescriptorBucket.text(entries));
      }
      descriptors.add(new DescriptorBucket(entries, bucket(d.getTokenBucket(), dp + ".token_bucket"), maxDynamic));
    }
    if (c.getStage() > 10) {
      throw new ConfigException(path + ".stage", "must be at most 10, got " + c.getStage());
    }
    RateLimitPolicy own = null;
    if (c.getRateLimitsCount() > 0) {
      for (int i = 0; i < c.getRateLimitsCount(); i++) {
        if (c.getRateLimits(i).hasStage()) { // Envoy: stages do not apply to the filter's own rate_limits
          throw new ConfigException(path + ".rate_limits[" + i + "].stage", "not supported here");
        }
      }
      own = RateLimits.compile(c.getRateLimitsList(), path + ".rate_limits");
    }
    VhRateLimits vh = VhRateLimits.ofNumber(c.getVhRateLimitsValue());
    int status = c.hasStatus() ? c.getStatus().getCodeValue() : 429;
    Stats store = stats != null ? stats : SHARED_STATS;
    var s = store.scope(c.getStatPrefix() + ".http_local_rate_limit.");
    return new Limit(bucket, List.copyOf(descriptors),
        !c.hasAlwaysConsumeDefaultTokenBucket() || c.getAlwaysConsumeDefaultTokenBucket().getValue(), own,
        c.getStage(), vh, perMillion(c.getFilterEnabled(), c.hasFilterEnabled(), path + ".filter_enabled"),
        perMillion(c.getFilterEnforced(), c.hasFilterEnforced(), path + ".filter_enforced"), status,
        c.getRateLimitedAsResourceExhausted() ? 8 : null, c.getEnableXRatelimitHeadersValue() != 0,
        java.util.List.copyOf(headers), s.counter("enabled"), s.counter("enforced"), s.counter("rate_limited"),
        s.counter("ok"));
  }

  private static TokenBucket bucket(io.envoyproxy.envoy.type.v3.TokenBucket tb, String path) throws ConfigException {
    long fillMs = tb.getFillInterval().getSeconds() * 1000 + tb.getFillInterval().getNanos() / 1_000_000;
    if (tb.getMaxTokens() == 0 || fillMs < 50) {
      throw new ConfigException(path, "max_tokens > 0 and fill_interval >= 50 ms are required");
    }
    long perFill = tb.hasTokensPerFill() ? tb.getTokensPerFill().getValue() : 1;
    return new TokenBucket(tb.getMaxTokens(), perFill, fillMs);
  }

  /** Per-route limits are compiled without the server's store; their counters live in this one, unpublished. */
  private static final Stats SHARED_STATS = new Stats();

  /** Envoy: an absent filter_enabled / filter_enforced means 0% (the filter does nothing). */
  private static int perMillion(RuntimeFractionalPercent p, boolean present, String path) throws ConfigException {
    return present ? io.bowline.core.compile.Fractions.perMillion(p.getDefaultValue(), path + ".default_value") : 0;
  }
}
