package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's zone-aware routing for one cluster's priority 0, rebuilt when its hosts or the local cluster's change: keep
 * requests in this proxy's locality as far as the upstream's capacity there matches the local service's share there,
 * and send the rest to the other localities by their spare capacity. With P_up the upstream's healthy hosts in our
 * locality as a share of all its healthy hosts, and P_local the same for the local cluster: P_up ≥ P_local routes
 * everything locally; otherwise P_up / P_local of the requests stay local and the others go where the upstream's share
 * exceeds the local cluster's.
 */
final class ZoneRouting {
  /** Why zone-aware routing is off for now (counted per request, as Envoy's stats are), or ACTIVE. */
  enum Mode { ACTIVE, LOCAL_CLUSTER_NOT_OK, CLUSTER_TOO_SMALL, OFF }

  /** The local cluster's healthy hosts by locality; {@code total} over all. */
  record LocalView(Map<String, Integer> byLocality, int total) {
    static final LocalView EMPTY = new LocalView(Map.of(), 0);
  }

  /** {@code cluster.<name>.lb_*} counters of zone-aware routing, made only where a local cluster is configured. */
  record Counters(Counter allDirectly, Counter sampled, Counter crossZone, Counter localClusterNotOk,
      Counter clusterTooSmall) {
    static Counters of(Stats.Scope s) {
      return new Counters(s.counter("lb_zone_routing_all_directly"), s.counter("lb_zone_routing_sampled"),
          s.counter("lb_zone_routing_cross_zone"), s.counter("lb_local_cluster_not_ok"),
          s.counter("lb_zone_cluster_too_small"));
    }
  }

  final Mode mode;
  private final @Nullable HostSet local;
  /** Of 10,000 requests, how many stay local (10,000: all). */
  private final int localPermyriad;
  private final HostSet[] others;
  private final int[] residualBounds;
  private final int enabledPerMillion;

  private ZoneRouting(Mode mode, @Nullable HostSet local, int localPermyriad, HostSet[] others, int[] residualBounds,
      int enabledPerMillion) {
    this.mode = mode;
    this.local = local;
    this.localPermyriad = localPermyriad;
    this.others = others;
    this.residualBounds = residualBounds;
    this.enabledPerMillion = enabledPerMillion;
  }

  private static ZoneRouting off(Mode why) {
    return new ZoneRouting(why, null, 0, new HostSet[0], new int[0], 0);
  }

  /**
   * Builds the routing from the upstream's healthy priority-0 hosts. Off when the local cluster has no healthy hosts,
   * when the upstream has fewer than {@code min_cluster_size} healthy hosts, fewer than two localities, or none in
   * ours.
   */
  static ZoneRouting of(List<UpstreamHost> healthyP0, String myLocality, LocalView localView,
      ClusterConfig.ZoneAware config) {
    if (localView.total() == 0 || !localView.byLocality().containsKey(myLocality)) {
      return off(Mode.LOCAL_CLUSTER_NOT_OK);
    }
    if (healthyP0.size() < config.minClusterSize()) {
      return off(Mode.CLUSTER_TOO_SMALL);
    }
    Map<String, List<UpstreamHost>> byLocality = new LinkedHashMap<>();
    for (UpstreamHost h : healthyP0) {
      byLocality.computeIfAbsent(h.locality(), k -> new ArrayList<>()).add(h);
    }
    List<UpstreamHost> mine = byLocality.get(myLocality);
    if (byLocality.size() < 2 || mine == null) {
      return off(Mode.OFF);
    }
    int total = healthyP0.size();
    int upstreamLocal = (int) (10_000L * mine.size() / total);
    int localLocal = (int) (10_000L * localView.byLocality().get(myLocality) / localView.total());
    if (upstreamLocal >= localLocal) {
      return new ZoneRouting(Mode.ACTIVE, new HostSet(mine), 10_000, new HostSet[0], new int[0],
          config.routingEnabledPerMillion());
    }
    List<HostSet> sets = new ArrayList<>();
    List<Integer> bounds = new ArrayList<>();
    int acc = 0;
    for (Map.Entry<String, List<UpstreamHost>> e : byLocality.entrySet()) {
      if (e.getKey().equals(myLocality)) {
        continue;
      }
      int upstream = (int) (10_000L * e.getValue().size() / total);
      int localShare = (int) (10_000L * localView.byLocality().getOrDefault(e.getKey(), 0) / localView.total());
      int residual = Math.max(0, upstream - localShare);
      if (residual > 0) {
        acc += residual;
        sets.add(new HostSet(e.getValue()));
        bounds.add(acc);
      }
    }
    if (acc == 0) { // no spare capacity anywhere else: stay local
      return new ZoneRouting(Mode.ACTIVE, new HostSet(mine), 10_000, new HostSet[0], new int[0],
          config.routingEnabledPerMillion());
    }
    return new ZoneRouting(Mode.ACTIVE, new HostSet(mine), (int) (10_000L * upstreamLocal / localLocal),
        sets.toArray(new HostSet[0]), bounds.stream().mapToInt(Integer::intValue).toArray(),
        config.routingEnabledPerMillion());
  }

  /** The hosts for one request, or null to use all of priority 0 (routing off, or not drawn for this request). */
  @Nullable HostSet pick(Counters c) {
    switch (mode) {
      case LOCAL_CLUSTER_NOT_OK -> {
        c.localClusterNotOk().inc();
        return null;
      }
      case CLUSTER_TOO_SMALL -> {
        c.clusterTooSmall().inc();
        return null;
      }
      case OFF -> {
        return null;
      }
      default -> { }
    }
    ThreadLocalRandom r = ThreadLocalRandom.current();
    if (enabledPerMillion < 1_000_000 && r.nextInt(1_000_000) >= enabledPerMillion) {
      return null;
    }
    if (localPermyriad >= 10_000) {
      c.allDirectly().inc();
      return local;
    }
    if (r.nextInt(10_000) < localPermyriad) {
      c.sampled().inc();
      return local;
    }
    c.crossZone().inc();
    int draw = r.nextInt(residualBounds[residualBounds.length - 1]);
    for (int i = 0; i < residualBounds.length; i++) {
      if (draw < residualBounds[i]) {
        return others[i];
      }
    }
    return others[others.length - 1];
  }
}
