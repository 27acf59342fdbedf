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

  ClusterUpdateStats(Stats.Scope s) {
    updateAttempt = s.counter("update_attempt");
    updateSuccess = s.counter("update_success");
    updateRejected = s.counter("update_rejected");
    updateEmpty = s.counter("update_empty");
    membershipChange = s.counter("membership_change");
    membershipTotal = s.gauge("membership_total");
    membershipHealthy = s.gauge("membership_healthy");
  }
}
