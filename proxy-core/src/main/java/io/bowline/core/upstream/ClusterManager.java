package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.stats.Stats;
import io.bowline.core.transport.Transport;
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

  public ClusterManager(Stats stats, Transport transport, EventLoopGroup group) {
    this.stats = stats;
    this.transport = transport;
    this.group = group;
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
      if (existing != null && existing.config().protoJson().equals(c.protoJson())) {
        next.put(c.name(), existing);
        continue;
      }
      Cluster cluster = new Cluster(c, new ClusterStats(stats.scope("cluster." + c.name() + ".")), transport, group);
      List<ClusterConfig.EndpointConfig> eds = c.edsServiceName() == null ? null
          : edsEndpoints.apply(c.edsServiceName());
      if (eds != null) { // the load assignment that ended its warming counts as its first EDS update
        cluster.stats().updateAttempt.inc();
        cluster.stats().updateSuccess.inc();
        cluster.setEndpoints(eds);
      }
      cluster.start(dns);
      next.put(c.name(), cluster);
    }
    clusters = Map.copyOf(next);
    for (Map.Entry<String, Cluster> e : old.entrySet()) {
      if (next.get(e.getKey()) != e.getValue()) {
        e.getValue().stop();
      }
    }
    stats.gauge("cluster_manager.active_clusters").set(next.size());
  }

  /** EDS delivered a load assignment: every cluster fed by {@code serviceName} gets its endpoints. */
  public synchronized void updateEndpoints(String serviceName, List<ClusterConfig.EndpointConfig> endpoints) {
    for (Cluster c : clusters.values()) {
      if (serviceName.equals(c.config().edsServiceName())) {
        c.stats().updateAttempt.inc();
        c.stats().updateSuccess.inc();
        if (endpoints.isEmpty()) {
          c.stats().updateEmpty.inc();
        }
        c.setEndpoints(endpoints);
      }
    }
  }

  /** An EDS update naming {@code serviceName} was rejected. */
  public synchronized void endpointsRejected(String serviceName) {
    for (Cluster c : clusters.values()) {
      if (serviceName.equals(c.config().edsServiceName())) {
        c.stats().updateAttempt.inc();
        c.stats().updateRejected.inc();
      }
    }
  }

  public void shutdown() {
    dns.shutdownNow();
    clusters.values().forEach(Cluster::stop);
  }
}
