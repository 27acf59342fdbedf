package io.bowline.filters.fault;

import io.bowline.core.router.HeaderMatcher;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.extensions.filters.http.fault.v3.HTTPFault}, compiled. Percentages are kept as parts per million so
 * one random draw decides.
 */
record FaultConfig(
    @Nullable Delay delay,
    @Nullable Abort abort,
    @Nullable ResponseRateLimit responseRateLimit,
    @Nullable String upstreamCluster,
    List<HeaderMatcher> headers,
    List<String> downstreamNodes,
    long maxActiveFaults) {

  /** A fixed delay, or the delay the request's {@code x-envoy-fault-delay-request} header asks for. */
  record Delay(long fixedMs, boolean fromHeader, int perMillion) {}

  /**
   * An HTTP status or gRPC status to answer with, or the one the request's {@code x-envoy-fault-abort-request} /
   * {@code x-envoy-fault-abort-grpc-request} header asks for.
   */
  record Abort(int httpStatus, @Nullable Integer grpcStatus, boolean fromHeader, int perMillion) {}

  /**
   * {@code response_rate_limit}: the response body paced to {@code kibPerSecond}, or to what the request's
   * {@code x-envoy-fault-throughput-response} header asks.
   */
  record ResponseRateLimit(long kibPerSecond, boolean fromHeader, int perMillion) {}
}
