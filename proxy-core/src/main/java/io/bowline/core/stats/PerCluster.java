package io.bowline.core.stats;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Objects holding one cluster's stats for a filter that counts under the cluster a request went to
 * ({@code cluster.<name>.grpc.*}, {@code cluster.<name>.ratelimit.*}): made on a cluster's first request and kept, so
 * no request looks a stat up by name. When CDS removes a cluster its stats go ({@link Stats#removeClusters}); the
 * objects made before then are dropped here too, so a cluster added again counts into the stats {@code /stats} shows
 * and the map does not keep every cluster a mesh ever had.
 */
public final class PerCluster<T> {
  private final Stats stats;
  private final Function<String, T> maker;
  private final ConcurrentHashMap<String, T> byCluster = new ConcurrentHashMap<>();
  private volatile int removals;

  public PerCluster(Stats stats, Function<String, T> maker) {
    this.stats = stats;
    this.maker = maker;
  }

  public T of(String cluster) {
    int now = stats.clusterRemovals();
    if (now != removals) {
      removals = now;
      byCluster.clear();
    }
    T t = byCluster.get(cluster);
    return t != null ? t : byCluster.computeIfAbsent(cluster, maker);
  }
}
