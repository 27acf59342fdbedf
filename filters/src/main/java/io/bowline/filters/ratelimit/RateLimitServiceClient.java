package io.bowline.filters.ratelimit;

import io.bowline.core.filter.ClusterChannels;
import io.bowline.core.filter.ClusterDirectory;
import io.grpc.stub.StreamObserver;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import java.util.concurrent.TimeUnit;

/**
 * gRPC client of {@code envoy.service.ratelimit.v3.RateLimitService} on a cluster: one HTTP/2 channel per cluster and
 * server, whose addresses are the cluster's hosts at each (re)resolution, so it follows the cluster's updates.
 * Callbacks run on gRPC's transport thread; the caller hops to its own event loop.
 */
final class RateLimitServiceClient {
  private final RateLimitServiceGrpc.RateLimitServiceStub stub;

  private RateLimitServiceClient(io.grpc.ManagedChannel channel) {
    this.stub = RateLimitServiceGrpc.newStub(channel);
  }

  /** The client, its channel connecting from now on (the default timeout, 20 ms, leaves no room for a setup). */
  static RateLimitServiceClient of(ClusterDirectory clusters, String cluster) {
    ClusterChannels.warm(clusters, cluster, "");
    return new RateLimitServiceClient(ClusterChannels.of(clusters, cluster));
  }

  /** Asks the service; {@code done} gets the response or the failure, once. */
  void shouldRateLimit(RateLimitRequest request, long timeoutMs, StreamObserver<RateLimitResponse> done) {
    stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).shouldRateLimit(request, done);
  }
}
