package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.stats.Stats;
import io.bowline.core.transport.Transport;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.EventLoopGroup;
import java.util.HashMap;
import java.util.List;
import java.util.function.Function;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * The clusters in force. An update keeps a cluster (and its warm connection pools) when its configuration is
 * unchanged, adds new ones, and closes the pools of removed ones.
 */
public final class ClusterManager {
  private final Stats stats;
  private final Transport transport;
  private final EventLoopGroup group;
  private final ScheduledExecutorService dns = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bowline-dns");
    t.setDaemon(true);
    return t;
  });
  private volatile Map<String, Cluster> clusters = Map.of();
  /** Every open upstream connection (a group drops a connection as it closes). */
  private final ChannelGroup connections = new DefaultChannelGroup("upstream", GlobalEventExecutor.INSTANCE);
  /** Zone-aware routing: this proxy's locality and its local cluster (cluster_manager.local_cluster_name). */
  private volatile String myLocality = "";
  private volatile @Nullable String localCluster;
  private volatile ZoneRouting.LocalView localView = ZoneRouting.LocalView.EMPTY;
  /** Clusters by EDS service name, so a load assignment finds its clusters without a scan. */
  private Map<String, List<Cluster>> byEdsName = Map.of();

  public ClusterManager(Stats stats, Transport transport, EventLoopGroup group) {
    this.stats = stats;
    this.transport = transport;
    this.group = group;
    // one idle-connection sweep per event loop for every cluster, rather than a timer per cluster and loop
    for (io.netty.util.concurrent.EventExecutor loop : group) {
      loop.scheduleAtFixedRate(() -> {
        for (Cluster c : clusters.values()) {
          c.sweepIdle(loop);
        }
      }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /**
   * Zone-aware routing from now on: every cluster keeps requests in {@code locality} as the local cluster's spread
   * over the localities allows. Call before the first update.
   */
  public void zoneAware(String locality, String localClusterName) {
    myLocality = locality;
    localCluster = localClusterName;
  }

  /** The local cluster's hosts changed: a new view, and every cluster's zone routing follows it. */
  private void localChanged(Cluster local) {
    ZoneRouting.LocalView v = local.localView();
    if (v.equals(localView)) {
      return;
    }
    localView = v;
    for (Cluster c : clusters.values()) {
      c.ejectionsChanged();
    }
  }

  public @Nullable Cluster get(String name) {
    return clusters.get(name);
  }

  public Map<String, Cluster> all() {
    return clusters;
  }

  /** Applies a complete set of static clusters. */
  public synchronized void update(Map<String, ClusterConfig> configs) {
    update(configs, name -> null);
  }

  /**
   * Applies a complete set of clusters; an EDS cluster that is new or changed starts with the endpoints
   * {@code edsEndpoints} gives for its service name (null: none delivered yet). Called from one control thread at a time.
   */
  public synchronized void update(Map<String, ClusterConfig> configs,
      Function<String, @Nullable List<ClusterConfig.EndpointConfig>> edsEndpoints) {
    Map<String, Cluster> next = new HashMap<>();
    Map<String, Cluster> old = clusters;
    for (ClusterConfig c : configs.values()) {
      Cluster existing = old.get(c.name());
      if (existing != null && existing.config().protoBytes().equals(c.protoBytes())) {
        next.put(c.name(), existing);
        continue;
      }
      Cluster cluster = new Cluster(c, stats.clusterScope(c.name()), transport, group, stats, connections);
      List<ClusterConfig.EndpointConfig> eds = c.edsServiceName() == null ? null
          : edsEndpoints.apply(c.edsServiceName());
      if (eds != null) { // the load assignment that ended its warming counts as its first EDS update
        cluster.updateStats().updateAttempt.inc();
        cluster.updateStats().updateSuccess.inc();
        cluster.setEndpoints(eds);
      }
      if (localCluster != null) {
        Cluster self = cluster;
        if (c.name().equals(localCluster)) {
          cluster.onAvailableChanged(() -> localChanged(self));
        }
        cluster.zones(new Cluster.Zones(myLocality, () -> localView,
            ZoneRouting.Counters.of(stats.clusterScope(c.name()))));
      }
      cluster.start(dns);
      next.put(c.name(), cluster);
    }
    clusters = Map.copyOf(next);
    Cluster local = localCluster == null ? null : next.get(localCluster);
    if (local != null) { // the clusters built before the local one saw an older view of it
      localView = local.localView();
      for (Cluster c : next.values()) {
        c.ejectionsChanged();
      }
    }
    Map<String, List<Cluster>> eds = new HashMap<>();
    for (Cluster c : next.values()) {
      if (c.config().edsServiceName() != null) {
        eds.computeIfAbsent(c.config().edsServiceName(), k -> new java.util.ArrayList<>(1)).add(c);
      }
    }
    byEdsName = eds;
    List<String> removed = new java.util.ArrayList<>();
    for (Map.Entry<String, Cluster> e : old.entrySet()) {
      if (next.get(e.getKey()) != e.getValue()) {
        e.getValue().stop();
      }
      if (!next.containsKey(e.getKey())) {
        removed.add(e.getKey());
      }
    }
    stats.removeClusters(removed); // a cluster updated in place keeps its stats; a removed one's go, as in Envoy
    stats.gauge("cluster_manager.active_clusters").set(next.size());
  }

  /** EDS delivered a load assignment: every cluster fed by {@code serviceName} gets its endpoints. */
  public synchronized void updateEndpoints(String serviceName, List<ClusterConfig.EndpointConfig> endpoints) {
    for (Cluster c : byEdsName.getOrDefault(serviceName, List.of())) {
      c.updateStats().updateAttempt.inc();
      c.updateStats().updateSuccess.inc();
      if (endpoints.isEmpty()) {
        c.updateStats().updateEmpty.inc();
      }
      c.setEndpoints(endpoints);
    }
  }

  /** An EDS update naming {@code serviceName} was rejected. */
  public synchronized void endpointsRejected(String serviceName) {
    for (Cluster c : byEdsName.getOrDefault(serviceName, List.of())) {
      c.updateStats().updateAttempt.inc();
      c.updateStats().updateRejected.inc();
    }
  }

  /**
   * Stops every cluster's timers and closes every upstream connection, waiting up to {@code waitMs} for them to
   * close: the event loops they run on stop next, and a connection still closing then (io_uring closes
   * asynchronously) would leave its read buffer behind.
   */
  public void shutdown(long waitMs) {
    dns.shutdownNow();
    clusters.values().forEach(Cluster::stop);
    connections.close().awaitUninterruptibly(waitMs);
  }
}
