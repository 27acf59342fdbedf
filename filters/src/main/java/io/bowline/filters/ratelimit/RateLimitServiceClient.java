package io.bowline.filters.ratelimit;

import io.bowline.core.filter.ClusterDirectory;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * gRPC client of {@code envoy.service.ratelimit.v3.RateLimitService} on a cluster: one HTTP/2 channel per cluster and
 * server, whose addresses are the cluster's hosts at each (re)resolution, so it follows the cluster's updates.
 * Callbacks run on gRPC's transport thread; the caller hops to its own event loop.
 */
final class RateLimitServiceClient {
  /** Channels per cluster directory (one per running server) and cluster name. */
  private static final Map<ClusterDirectory, Map<String, ManagedChannel>> CHANNELS = new WeakHashMap<>();

  private final RateLimitServiceGrpc.RateLimitServiceStub stub;

  private RateLimitServiceClient(ManagedChannel channel) {
    this.stub = RateLimitServiceGrpc.newStub(channel);
  }

  static RateLimitServiceClient of(ClusterDirectory clusters, String cluster) {
    Map<String, ManagedChannel> byName;
    synchronized (CHANNELS) {
      byName = CHANNELS.computeIfAbsent(clusters, k -> new ConcurrentHashMap<>());
    }
    return new RateLimitServiceClient(byName.computeIfAbsent(cluster, c -> open(clusters, c)));
  }

  @SuppressWarnings("deprecation") // a per-channel resolver keeps each server's clusters apart (the registry is global)
  private static ManagedChannel open(ClusterDirectory clusters, String cluster) {
    return NettyChannelBuilder.forTarget("bowline-cluster:///" + cluster)
        .nameResolverFactory(new ClusterResolverFactory(clusters, cluster))
        .negotiationType(NegotiationType.PLAINTEXT)
        .directExecutor() // the observer only hands the answer to the stream's event loop
        .idleTimeout(5, TimeUnit.MINUTES)
        .build();
  }

  /** Asks the service; {@code done} gets the response or the failure, once. */
  void shouldRateLimit(RateLimitRequest request, long timeoutMs, StreamObserver<RateLimitResponse> done) {
    stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).shouldRateLimit(request, done);
  }

  /** Resolves {@code bowline-cluster:///<name>} to the cluster's hosts, again whenever gRPC asks (e.g. on failure). */
  private static final class ClusterResolverFactory extends NameResolver.Factory {
    private final ClusterDirectory clusters;
    private final String cluster;

    ClusterResolverFactory(ClusterDirectory clusters, String cluster) {
      this.clusters = clusters;
      this.cluster = cluster;
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
      return new NameResolver() {
        private Listener2 listener;

        @Override
        public String getServiceAuthority() {
          return cluster;
        }

        @Override
        public void start(Listener2 l) {
          listener = l;
          resolve();
        }

        @Override
        public void refresh() {
          resolve();
        }

        private void resolve() {
          List<InetSocketAddress> hosts = clusters.hosts(cluster);
          if (hosts.isEmpty()) {
            listener.onError(Status.UNAVAILABLE.withDescription("cluster " + cluster + " has no hosts"));
            return;
          }
          listener.onResult(ResolutionResult.newBuilder()
              .setAddresses(hosts.stream().map(EquivalentAddressGroup::new).toList()).build());
        }

        @Override
        public void shutdown() {}
      };
    }

    @Override
    public String getDefaultScheme() {
      return "bowline-cluster";
    }
  }
}
