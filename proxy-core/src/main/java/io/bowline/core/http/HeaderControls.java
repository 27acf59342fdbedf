package io.bowline.core.http;

import io.bowline.core.router.RetryPolicy;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The request headers Envoy's router takes instructions from, applied over the route's policy and removed before
 * the request goes upstream: {@code x-envoy-retry-on}, {@code x-envoy-retry-grpc-on}, {@code x-envoy-max-retries},
 * {@code x-envoy-retriable-status-codes}, {@code x-envoy-upstream-rq-timeout-ms},
 * {@code x-envoy-upstream-rq-per-try-timeout-ms}.
 */
final class HeaderControls {
  static final String RETRY_ON = "x-envoy-retry-on";
  static final String RETRY_GRPC_ON = "x-envoy-retry-grpc-on";
  static final String MAX_RETRIES = "x-envoy-max-retries";
  static final String RETRIABLE_STATUS_CODES = "x-envoy-retriable-status-codes";
  static final String UPSTREAM_RQ_TIMEOUT_MS = "x-envoy-upstream-rq-timeout-ms";
  static final String UPSTREAM_RQ_PER_TRY_TIMEOUT_MS = "x-envoy-upstream-rq-per-try-timeout-ms";

  private HeaderControls() {}

  /**
   * The route's retry policy with the request's retry headers applied: conditions added, the retry count and
   * retriable codes overridden; a policy of one retry when the route has none but the request asks for retries.
   * The per-try timeout header applies only where a retry policy results.
   */
  static @Nullable RetryPolicy retryPolicy(@Nullable RetryPolicy route, HttpHeaders h) {
    String on = h.get(RETRY_ON);
    String grpcOn = h.get(RETRY_GRPC_ON);
    String max = h.get(MAX_RETRIES);
    String codes = h.get(RETRIABLE_STATUS_CODES);
    Long perTry = millis(h, UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
    h.remove(RETRY_ON);
    h.remove(RETRY_GRPC_ON);
    h.remove(MAX_RETRIES);
    h.remove(RETRIABLE_STATUS_CODES);
    h.remove(UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
    int extra = conditions(on) | conditions(grpcOn);
    if (route == null && extra == 0) {
      return null;
    }
    int num = route != null ? route.numRetries() : 1;
    if (max != null) {
      try {
        num = Math.max(0, Integer.parseInt(max.trim()));
      } catch (NumberFormatException e) {
        // Envoy ignores a malformed x-envoy-max-retries
      }
    }
    Set<Integer> retriable = new HashSet<>(route != null ? route.retriableStatusCodes() : Set.of());
    if (codes != null) {
      for (String c : codes.split(",")) {
        try {
          retriable.add(Integer.parseInt(c.trim()));
        } catch (NumberFormatException e) {
          // skipped, as Envoy does
        }
      }
    }
    if (route != null && extra == 0 && max == null && codes == null && perTry == null) {
      return route;
    }
    return new RetryPolicy((route != null ? route.conditions() : 0) | extra, num,
        perTry != null ? perTry : route != null ? route.perTryTimeoutMs() : 0,
        route != null ? route.baseIntervalMs() : 25, route != null ? route.maxIntervalMs() : 250, retriable,
        route != null && route.previousHosts(), route != null ? route.hostSelectionMaxAttempts() : 1,
        route != null && route.includeAttemptCount(),
        route != null ? route.retriableHeaders() : java.util.List.of(),
        route != null ? route.retriableRequestHeaders() : java.util.List.of(),
        route != null ? route.rateLimitedBackOff() : null, route != null ? route.perTryIdleTimeoutMs() : 0,
        route != null ? route.previousPrioritiesFrequency() : 0);
  }

  private static int conditions(@Nullable String value) {
    if (value == null) {
      return 0;
    }
    int c = 0;
    for (String token : value.split(",")) {
      c |= RetryPolicy.condition(token);
    }
    return c;
  }

  /** A non-negative millisecond header, removed from the request; null when absent or malformed. */
  static @Nullable Long millis(HttpHeaders h, String name) {
    String v = h.get(name);
    if (v == null) {
      return null;
    }
    h.remove(name);
    try {
      long ms = Long.parseLong(v.trim());
      return ms < 0 ? null : ms;
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
