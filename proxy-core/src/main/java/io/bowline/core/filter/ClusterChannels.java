package io.bowline.core.filter;

import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * gRPC channels to the hosts of a cluster, for the services Envoy reaches through {@code envoy_grpc.cluster_name}
 * (rate limit service, OTLP trace collector): one HTTP/2 channel per cluster and server, whose addresses are the
 * cluster's hosts at each (re)resolution, so it follows the cluster's DNS and EDS updates.
 */
public final class ClusterChannels {
  private ClusterChannels() {}

  /** Where a resolver waiting for its cluster's first hosts looks again. */
  private static final java.util.concurrent.ScheduledExecutorService RETRY =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bowline-cluster-channels");
        t.setDaemon(true);
        return t;
      });

  /** Channels per cluster directory (one per running server) and cluster name. */
  private static final Map<ClusterDirectory, Map<String, ManagedChannel>> CHANNELS = new WeakHashMap<>();

  /** The shared channel to {@code cluster}; its callbacks run on gRPC's transport threads. */
  public static ManagedChannel of(ClusterDirectory clusters, String cluster) {
    return of(clusters, cluster, "");
  }

  /**
   * Opens the channel now and connects in the background, so a service's first call does not pay for it (ext_authz's
   * default timeout is 200 ms): for filters, when their config is compiled.
   */
  public static void warm(ClusterDirectory clusters, String cluster, String authority) {
    of(clusters, cluster, authority).getState(true);
  }

  /**
   * The same with {@code envoy_grpc.authority} as the calls' :authority (empty: the cluster's name, as Envoy does,
   * percent-encoded where Istio's names — {@code outbound|9191||authz} — are not a valid authority).
   */
  public static ManagedChannel of(ClusterDirectory clusters, String cluster, String authority) {
    Map<String, ManagedChannel> byName;
    synchronized (CHANNELS) {
      byName = CHANNELS.computeIfAbsent(clusters, k -> new ConcurrentHashMap<>());
    }
    return byName.computeIfAbsent(cluster + '\n' + authority, k -> open(clusters, cluster, authority));
  }

  @SuppressWarnings("deprecation") // a per-channel resolver keeps each server's clusters apart (the registry is global)
  private static ManagedChannel open(ClusterDirectory clusters, String cluster, String authority) {
    String encoded = java.net.URLEncoder.encode(cluster, java.nio.charset.StandardCharsets.UTF_8);
    return NettyChannelBuilder.forTarget("bowline-cluster:///" + encoded)
        .nameResolverFactory(new ClusterResolverFactory(clusters, cluster, authority.isEmpty() ? encoded : authority))
        .negotiationType(NegotiationType.PLAINTEXT)
        .directExecutor() // observers only hand results to an event loop or a queue
        .idleTimeout(5, TimeUnit.MINUTES)
        .build();
  }

  /** Resolves {@code bowline-cluster:///<name>} to the cluster's hosts, again whenever gRPC asks (e.g. on failure). */
  private static final class ClusterResolverFactory extends NameResolver.Factory {
    private final ClusterDirectory clusters;
    private final String cluster;
    private final String authority;

    ClusterResolverFactory(ClusterDirectory clusters, String cluster, String authority) {
      this.clusters = clusters;
      this.cluster = cluster;
      this.authority = authority;
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
      return new NameResolver() {
        private Listener2 listener;

        @Override
        public String getServiceAuthority() {
          return authority;
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

        private final long started = System.nanoTime();

        private void resolve() {
          List<InetSocketAddress> hosts = clusters.hosts(cluster);
          if (hosts.isEmpty() && System.nanoTime() - started < TimeUnit.SECONDS.toNanos(30)) {
            // a channel opened while its config is compiled: the cluster has no hosts until the cluster manager
            // takes the config. Calls wait for the first answer, so look again shortly instead of failing them.
            RETRY.schedule(this::resolve, 50, TimeUnit.MILLISECONDS);
            return;
          }
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
