package io.bowline.core.upstream;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Stats;

/**
 * What config does to a cluster, made with it: its EDS updates ({@code update_*}) and its membership
 * ({@code membership_*}). Unlike its traffic stats ({@link ClusterStats}) these move without a request.
 */
public final class ClusterUpdateStats {
  public final Counter updateAttempt;
  public final Counter updateSuccess;
  public final Counter updateRejected;
  public final Counter updateEmpty;
  public final Counter membershipChange;
  public final Gauge membershipTotal;
  public final Gauge membershipHealthy;
  public final Gauge membershipDegraded;
  /** Always 0: bowline holds no host out of load balancing (no ignore_new_hosts_until_first_hc, no dynamic removal). */
  public final Gauge membershipExcluded;

  ClusterUpdateStats(Stats.Scope s) {
    updateAttempt = s.counter("update_attempt");
    updateSuccess = s.counter("update_success");
    updateRejected = s.counter("update_rejected");
    updateEmpty = s.counter("update_empty");
    membershipChange = s.counter("membership_change");
    membershipTotal = s.gauge("membership_total");
    membershipHealthy = s.gauge("membership_healthy");
    membershipDegraded = s.gauge("membership_degraded");
    membershipExcluded = s.gauge("membership_excluded");
  }

  /**
   * The healthy and degraded gauges for {@code hosts}: available hosts EDS calls healthy, and those it calls
   * degraded. A plain loop: a stream pipeline here was inlined into the cluster's refresh, which C2 compiles during
   * a large EDS push (its longest compilation there, 0.44 s).
   */
  void membership(java.util.List<UpstreamHost> hosts) {
    long healthy = 0;
    long degraded = 0;
    for (int i = 0; i < hosts.size(); i++) {
      UpstreamHost h = hosts.get(i);
      if (h.healthy()) {
        if (h.degraded()) {
          degraded++;
        } else {
          healthy++;
        }
      }
    }
    membershipHealthy.set(healthy);
    membershipDegraded.set(degraded);
    membershipExcluded.set(0);
  }
}
