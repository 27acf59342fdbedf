package io.bowline.core.router;

import java.util.Set;

/**
 * A route's (or its virtual host's) {@code retry_policy}, compiled. {@code conditions} is a bit set of
 * {@code retry_on} and the gRPC conditions, with Envoy's meanings.
 */
public record RetryPolicy(
    int conditions,
    int numRetries,
    long perTryTimeoutMs,
    long baseIntervalMs,
    long maxIntervalMs,
    Set<Integer> retriableStatusCodes,
    boolean previousHosts,
    int hostSelectionMaxAttempts,
    boolean includeAttemptCount,
    java.util.List<HeaderMatcher> retriableHeaders,
    java.util.List<HeaderMatcher> retriableRequestHeaders,
    @org.jspecify.annotations.Nullable RateLimitedBackOff rateLimitedBackOff,
    long perTryIdleTimeoutMs,
    int previousPrioritiesFrequency) {

  /**
   * {@code rate_limited_retry_back_off}: the response headers that say when to come back (in order), and the longest
   * wait accepted from them (longer values are discarded and the next header tried).
   */
  public record RateLimitedBackOff(java.util.List<ResetHeader> headers, long maxIntervalMs) {
    public RateLimitedBackOff {
      headers = java.util.List.copyOf(headers);
    }

    /**
     * The wait a rate-limited response asks for, in ms, or -1 when no reset header gives a usable one: SECONDS values
     * are a count of seconds, UNIX_TIMESTAMP values the epoch second the limit resets at.
     */
    public long resetMs(io.netty.handler.codec.http.HttpHeaders response, long nowEpochMs) {
      for (ResetHeader h : headers) {
        String v = response.get(h.name());
        if (v == null) {
          continue;
        }
        long seconds;
        try {
          seconds = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
          continue;
        }
        long ms = h.unixTimestamp() ? seconds * 1000 - nowEpochMs : seconds * 1000;
        if (ms > 0 && ms <= maxIntervalMs) {
          return ms;
        }
      }
      return -1;
    }
  }

  /** One reset header: its (lower-case) name, and whether it holds a Unix timestamp rather than seconds. */
  public record ResetHeader(String name, boolean unixTimestamp) {}

  public static final int FIVE_XX = 1;
  public static final int GATEWAY_ERROR = 1 << 1;
  public static final int RESET = 1 << 2;
  public static final int CONNECT_FAILURE = 1 << 3;
  public static final int RETRIABLE_4XX = 1 << 4;
  public static final int REFUSED_STREAM = 1 << 5;
  public static final int RETRIABLE_STATUS_CODES = 1 << 6;
  public static final int ENVOY_RATELIMITED = 1 << 7;
  public static final int RESET_BEFORE_REQUEST = 1 << 8;
  public static final int GRPC_CANCELLED = 1 << 9;
  public static final int GRPC_DEADLINE_EXCEEDED = 1 << 10;
  public static final int GRPC_INTERNAL = 1 << 11;
  public static final int GRPC_RESOURCE_EXHAUSTED = 1 << 12;
  public static final int GRPC_UNAVAILABLE = 1 << 13;
  public static final int HTTP3_POST_CONNECT_FAILURE = 1 << 14;
  public static final int RETRIABLE_HEADERS = 1 << 15;

  public RetryPolicy {
    retriableStatusCodes = Set.copyOf(retriableStatusCodes);
    retriableHeaders = java.util.List.copyOf(retriableHeaders);
    retriableRequestHeaders = java.util.List.copyOf(retriableRequestHeaders);
  }

  /** retriable_request_headers: when given, only a request matching one of them may be retried. */
  public boolean requestMayRetry(io.netty.handler.codec.http.HttpHeaders request) {
    if (retriableRequestHeaders.isEmpty()) {
      return true;
    }
    for (HeaderMatcher m : retriableRequestHeaders) {
      if (m.matches(request)) {
        return true;
      }
    }
    return false;
  }

  /** retriable-headers: a response carrying a header one of retriable_headers matches. */
  public boolean retriesHeaders(io.netty.handler.codec.http.HttpHeaders response) {
    if (!has(RETRIABLE_HEADERS)) {
      return false;
    }
    for (HeaderMatcher m : retriableHeaders) {
      if (m.matches(response)) {
        return true;
      }
    }
    return false;
  }

  /** The bit of one {@code retry_on} / {@code x-envoy-retry-on} / {@code x-envoy-retry-grpc-on} token, or 0. */
  public static int condition(String token) {
    return switch (token.trim()) {
      case "5xx" -> FIVE_XX;
      case "gateway-error" -> GATEWAY_ERROR;
      case "reset" -> RESET;
      case "connect-failure" -> CONNECT_FAILURE;
      case "retriable-4xx" -> RETRIABLE_4XX;
      case "refused-stream" -> REFUSED_STREAM;
      case "retriable-status-codes" -> RETRIABLE_STATUS_CODES;
      case "envoy-ratelimited" -> ENVOY_RATELIMITED;
      case "retriable-headers" -> RETRIABLE_HEADERS;
      case "reset-before-request" -> RESET_BEFORE_REQUEST;
      case "cancelled" -> GRPC_CANCELLED;
      case "deadline-exceeded" -> GRPC_DEADLINE_EXCEEDED;
      case "internal" -> GRPC_INTERNAL;
      case "resource-exhausted" -> GRPC_RESOURCE_EXHAUSTED;
      case "unavailable" -> GRPC_UNAVAILABLE;
      case "http3-post-connect-failure" -> HTTP3_POST_CONNECT_FAILURE; // accepted: bowline has no HTTP/3 upstreams
      default -> 0;
    };
  }

  public boolean has(int condition) {
    return (conditions & condition) != 0;
  }

  /** A connection failure, a reset or a per-try timeout: no response at all. */
  public boolean retriesNoResponse() {
    return has(FIVE_XX | GATEWAY_ERROR | RESET);
  }

  /** Whether a response with this status (and gRPC status, -1 if none; rate-limited header) is retriable. */
  public boolean retriesResponse(int status, int grpcStatus, boolean envoyRateLimited, Set<Integer> extraCodes) {
    if (has(FIVE_XX) && status >= 500) {
      return true;
    }
    if (has(GATEWAY_ERROR) && (status == 502 || status == 503 || status == 504)) {
      return true;
    }
    if (has(RETRIABLE_4XX) && status == 409) {
      return true;
    }
    if (has(RETRIABLE_STATUS_CODES) && (retriableStatusCodes.contains(status) || extraCodes.contains(status))) {
      return true;
    }
    if (has(ENVOY_RATELIMITED) && envoyRateLimited) {
      return true;
    }
    return switch (grpcStatus) {
      case 1 -> has(GRPC_CANCELLED);
      case 4 -> has(GRPC_DEADLINE_EXCEEDED);
      case 8 -> has(GRPC_RESOURCE_EXHAUSTED);
      case 13 -> has(GRPC_INTERNAL);
      case 14 -> has(GRPC_UNAVAILABLE);
      default -> false;
    };
  }

  /** Envoy's jittered exponential backoff: uniform in [0, base * (2^retry - 1)], capped at the maximum. */
  /** Envoy's jittered lower bound for a rate-limited wait: at least {@code resetMs}, at most half as much again. */
  public static long rateLimitedDelayMs(long resetMs, java.util.Random random) {
    return resetMs + (long) (random.nextDouble() * (resetMs / 2.0));
  }

  public long backoffMs(int retry, java.util.Random random) {
    long ceiling = Math.min(maxIntervalMs, baseIntervalMs * ((1L << Math.min(retry, 30)) - 1));
    return ceiling <= 0 ? 0 : (long) (random.nextDouble() * ceiling);
  }
}
