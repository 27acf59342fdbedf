package io.bowline.core.compile;

import io.bowline.core.router.RetryPolicy;
import io.bowline.xds.ConfigException;
import java.util.HashSet;
import java.util.Set;

/** {@code config.route.v3.RetryPolicy} into a {@link RetryPolicy}, with Envoy's defaults. */
final class RetryPolicies {
  private static final String PREVIOUS_PRIORITIES =
      "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig";
  private static final String PREVIOUS_HOSTS = "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate";

  private RetryPolicies() {}

  static RetryPolicy compile(io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String path, boolean attemptCount)
      throws ConfigException {
    Fields.allow(p, path, "retry_on", "num_retries", "per_try_timeout", "retry_back_off", "retriable_status_codes",
        "retry_host_predicate", "host_selection_retry_max_attempts", "retriable_headers", "retriable_request_headers",
        "rate_limited_retry_back_off", "per_try_idle_timeout", "retry_priority");
    java.util.List<io.bowline.core.router.HeaderMatcher> responseHeaders = new java.util.ArrayList<>();
    for (int i = 0; i < p.getRetriableHeadersCount(); i++) {
      responseHeaders.add(RouteCompiler.header(p.getRetriableHeaders(i), path + ".retriable_headers[" + i + "]"));
    }
    java.util.List<io.bowline.core.router.HeaderMatcher> requestHeaders = new java.util.ArrayList<>();
    for (int i = 0; i < p.getRetriableRequestHeadersCount(); i++) {
      requestHeaders.add(RouteCompiler.header(p.getRetriableRequestHeaders(i),
          path + ".retriable_request_headers[" + i + "]"));
    }
    int conditions = 0;
    for (String token : p.getRetryOn().split(",")) {
      if (token.isBlank()) {
        continue;
      }
      int c = RetryPolicy.condition(token);
      if (c == 0) {
        throw new ConfigException(path + ".retry_on", "unknown retry condition '" + token.trim() + "'");
      }
      conditions |= c;
    }
    long base = 25;
    long max = -1;
    if (p.hasRetryBackOff()) {
      var b = p.getRetryBackOff();
      Fields.allow(b, path + ".retry_back_off", "base_interval", "max_interval");
      if (!b.hasBaseInterval() || Fields.millis(b.getBaseInterval()) <= 0) {
        throw new ConfigException(path + ".retry_back_off.base_interval", "required and greater than zero");
      }
      base = Fields.millis(b.getBaseInterval());
      if (b.hasMaxInterval()) {
        max = Fields.millis(b.getMaxInterval());
        if (max < base) {
          throw new ConfigException(path + ".retry_back_off.max_interval", "must be at least base_interval");
        }
      }
    }
    if (max < 0) {
      max = 10 * base; // Envoy: ten times the base interval
    }
    Set<Integer> codes = new HashSet<>(p.getRetriableStatusCodesList());
    boolean previousHosts = false;
    for (int i = 0; i < p.getRetryHostPredicateCount(); i++) {
      var pred = p.getRetryHostPredicate(i);
      String pp = path + ".retry_host_predicate[" + i + "]";
      Fields.allow(pred, pp, "name", "typed_config");
      String type = pred.hasTypedConfig() ? Fields.typeName(pred.getTypedConfig()) : pred.getName();
      if (!type.equals(PREVIOUS_HOSTS) && !type.equals("envoy.retry_host_predicates.previous_hosts")) {
        throw new ConfigException(pp, "retry host predicate " + type + " is not supported by bowline yet");
      }
      previousHosts = true;
    }
    int previousPriorities = 0;
    if (p.hasRetryPriority()) {
      var rp = p.getRetryPriority();
      String pp = path + ".retry_priority";
      Fields.allow(rp, pp, "name", "typed_config");
      String type = rp.hasTypedConfig() ? Fields.typeName(rp.getTypedConfig()) : rp.getName();
      if (!type.equals(PREVIOUS_PRIORITIES) && !type.equals("envoy.retry_priorities.previous_priorities")) {
        throw new ConfigException(pp, "retry priority " + type + " is not supported by bowline yet");
      }
      if (!rp.hasTypedConfig()) {
        throw new ConfigException(pp + ".typed_config", "a PreviousPrioritiesConfig with update_frequency is required");
      }
      var cfg = Fields.unpack(rp.getTypedConfig(), io.envoyproxy.envoy.extensions.retry.priority.previous_priorities
          .v3.PreviousPrioritiesConfig.class, pp + ".typed_config");
      if (cfg.getUpdateFrequency() <= 0) {
        throw new ConfigException(pp + ".typed_config.update_frequency", "must be greater than 0");
      }
      previousPriorities = cfg.getUpdateFrequency();
    }
    int numRetries = p.hasNumRetries() ? p.getNumRetries().getValue() : 1; // Envoy's default is one retry
    return new RetryPolicy(conditions, numRetries, p.hasPerTryTimeout() ? Fields.millis(p.getPerTryTimeout()) : 0,
        base, max, codes, previousHosts, p.getHostSelectionRetryMaxAttempts() > 0
            ? (int) Math.min(p.getHostSelectionRetryMaxAttempts(), 100) : 1, attemptCount, responseHeaders,
        requestHeaders, rateLimited(p, path),
        p.hasPerTryIdleTimeout() ? Fields.millis(p.getPerTryIdleTimeout()) : 0, previousPriorities);
  }

  private static RetryPolicy.@org.jspecify.annotations.Nullable RateLimitedBackOff rateLimited(
      io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String path) throws ConfigException {
    if (!p.hasRateLimitedRetryBackOff()) {
      return null;
    }
    var r = p.getRateLimitedRetryBackOff();
    String rp = path + ".rate_limited_retry_back_off";
    Fields.allow(r, rp, "reset_headers", "max_interval");
    if (r.getResetHeadersCount() == 0) {
      throw new ConfigException(rp + ".reset_headers", "at least one reset header is required");
    }
    java.util.List<RetryPolicy.ResetHeader> headers = new java.util.ArrayList<>();
    for (int i = 0; i < r.getResetHeadersCount(); i++) {
      var h = r.getResetHeaders(i);
      Fields.allow(h, rp + ".reset_headers[" + i + "]", "name", "format");
      if (h.getName().isEmpty()) {
        throw new ConfigException(rp + ".reset_headers[" + i + "].name", "required");
      }
      headers.add(new RetryPolicy.ResetHeader(h.getName().toLowerCase(java.util.Locale.ROOT),
          h.getFormat() == io.envoyproxy.envoy.config.route.v3.RetryPolicy.ResetHeaderFormat.UNIX_TIMESTAMP));
    }
    long max = r.hasMaxInterval() ? Fields.millis(r.getMaxInterval()) : 300_000;
    if (max < 1) {
      throw new ConfigException(rp + ".max_interval", "must be at least 1 ms");
    }
    return new RetryPolicy.RateLimitedBackOff(headers, max);
  }
}
