package io.bowline.core.config;

import io.bowline.core.stats.Counter;
import java.util.List;

/** {@code envoy.filters.network.tcp_proxy}: bytes relayed to one of the clusters, chosen by weight per connection. */
public record TcpProxyConfig(
    String statPrefix,
    List<WeightedCluster> clusters,
    int totalWeight,
    long idleTimeoutMs,
    Counter cxTotal,
    Counter noRoute,
    io.bowline.core.transport.ConnectionBytes connectionBytes,
    List<io.bowline.core.accesslog.AccessLogger> accessLogs,
    List<io.bowline.core.filter.ConnectionObserverProvider> observers) implements NetworkFilter {

  public TcpProxyConfig {
    clusters = List.copyOf(clusters);
    accessLogs = List.copyOf(accessLogs);
    observers = List.copyOf(observers);
  }

  /** A cluster and its weight. */
  public record WeightedCluster(String name, int weight) {}

  /** The cluster for a draw in [0, totalWeight). */
  public String pick(int draw) {
    int acc = 0;
    for (WeightedCluster c : clusters) {
      acc += c.weight();
      if (draw < acc) {
        return c.name();
      }
    }
    return clusters.get(clusters.size() - 1).name();
  }
}
