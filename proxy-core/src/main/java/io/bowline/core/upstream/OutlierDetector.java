package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's outlier detection for one cluster: consecutive 5xx, consecutive gateway failures and consecutive
 * locally-originated failures eject a host at once; success-rate and failure-percentage outliers are found each
 * interval. An ejected host gets no new requests for base_ejection_time × (times ejected), at most max_ejection_time;
 * never more than max_ejection_percent of the hosts are ejected (but always at least one may be). Results are
 * reported from every event loop; ejection decisions take the detector's lock, which only failures reach.
 */
final class OutlierDetector {
  private final ClusterConfig.Outlier cfg;
  private final Cluster cluster;
  private final Gauge ejectionsActive;
  private final Counter enforcedTotal;
  private final Counter overflow;
  private final Counter detected5xx;
  private final Counter enforced5xx;
  private final Counter detectedGateway;
  private final Counter enforcedGateway;
  private final Counter detectedLocal;
  private final Counter enforcedLocal;
  private final Counter detectedSuccessRate;
  private final Counter enforcedSuccessRate;
  private final Counter detectedFailurePercentage;
  private final Counter enforcedFailurePercentage;

  /** Per host, per cluster. */
  static final class HostState {
    final AtomicInteger consecutive5xx = new AtomicInteger();
    final AtomicInteger consecutiveGateway = new AtomicInteger();
    final AtomicInteger consecutiveLocal = new AtomicInteger();
    final LongAdder successes = new LongAdder();
    final LongAdder failures = new LongAdder();
    volatile long ejectedUntilNanos;
    int timesEjected;

    boolean ejected(long now) {
      long until = ejectedUntilNanos;
      return until != 0 && now < until;
    }
  }

  OutlierDetector(ClusterConfig.Outlier cfg, Cluster cluster, io.bowline.core.stats.Stats.Scope scope) {
    this.cfg = cfg;
    this.cluster = cluster;
    var s = scope.scope("outlier_detection.");
    ejectionsActive = s.gauge("ejections_active");
    enforcedTotal = s.counter("ejections_enforced_total");
    overflow = s.counter("ejections_overflow");
    detected5xx = s.counter("ejections_detected_consecutive_5xx");
    enforced5xx = s.counter("ejections_enforced_consecutive_5xx");
    detectedGateway = s.counter("ejections_detected_consecutive_gateway_failure");
    enforcedGateway = s.counter("ejections_enforced_consecutive_gateway_failure");
    detectedLocal = s.counter("ejections_detected_consecutive_local_origin_failure");
    enforcedLocal = s.counter("ejections_enforced_consecutive_local_origin_failure");
    detectedSuccessRate = s.counter("ejections_detected_success_rate");
    enforcedSuccessRate = s.counter("ejections_enforced_success_rate");
    detectedFailurePercentage = s.counter("ejections_detected_failure_percentage");
    enforcedFailurePercentage = s.counter("ejections_enforced_failure_percentage");
  }

  long intervalMs() {
    return cfg.intervalMs();
  }

  /** An upstream response's status (external origin). */
  void onResponse(UpstreamHost host, int status) {
    HostState st = host.outlier;
    if (status >= 500) {
      st.failures.increment();
      if (status == 502 || status == 503 || status == 504) {
        if (st.consecutiveGateway.incrementAndGet() == cfg.consecutiveGatewayFailure()) {
          consecutive(host, detectedGateway, enforcedGateway, cfg.enforcingConsecutiveGatewayFailure());
        }
      } else {
        st.consecutiveGateway.set(0);
      }
      if (st.consecutive5xx.incrementAndGet() == cfg.consecutive5xx()) {
        consecutive(host, detected5xx, enforced5xx, cfg.enforcingConsecutive5xx());
      }
      return;
    }
    st.successes.increment();
    st.consecutive5xx.set(0);
    st.consecutiveGateway.set(0);
    if (!cfg.splitExternalLocalOriginErrors()) {
      st.consecutiveLocal.set(0);
    }
  }

  /**
   * A connect failure, reset or timeout. Unless split_external_local_origin_errors, it counts as a gateway
   * failure and a 5xx (as Envoy maps it to 503); when split, it has its own counter.
   */
  void onLocalOriginFailure(UpstreamHost host) {
    if (!cfg.splitExternalLocalOriginErrors()) {
      onResponse(host, 503);
      return;
    }
    HostState st = host.outlier;
    st.failures.increment();
    if (st.consecutiveLocal.incrementAndGet() == cfg.consecutiveLocalOriginFailure()) {
      consecutive(host, detectedLocal, enforcedLocal, cfg.enforcingConsecutiveLocalOriginFailure());
    }
  }

  private void consecutive(UpstreamHost host, Counter detected, Counter enforced, int enforcingPercent) {
    detected.inc();
    if (ThreadLocalRandom.current().nextInt(100) < enforcingPercent) {
      eject(host, enforced);
    }
  }

  private synchronized void eject(UpstreamHost host, Counter enforced) {
    long now = System.nanoTime();
    HostState st = host.outlier;
    if (st.ejected(now)) {
      return;
    }
    List<UpstreamHost> all = cluster.hosts().hosts();
    int ejected = 0;
    for (UpstreamHost h : all) {
      if (h.outlier.ejected(now)) {
        ejected++;
      }
    }
    // at most max_ejection_percent of the hosts, but one host can always be ejected (Envoy)
    if (ejected > 0 && (ejected + 1) * 100 > (long) cfg.maxEjectionPercent() * all.size()) {
      overflow.inc();
      return;
    }
    st.timesEjected++;
    long ms = Math.min(cfg.maxEjectionTimeMs(), cfg.baseEjectionTimeMs() * st.timesEjected);
    if (cfg.maxEjectionTimeJitterMs() > 0) { // spreads the returns of hosts ejected together (Envoy)
      ms += java.util.concurrent.ThreadLocalRandom.current().nextLong(cfg.maxEjectionTimeJitterMs() + 1);
    }
    st.ejectedUntilNanos = now + ms * 1_000_000L;
    st.consecutive5xx.set(0);
    st.consecutiveGateway.set(0);
    st.consecutiveLocal.set(0);
    enforced.inc();
    enforcedTotal.inc();
    ejectionsActive.set(ejected + 1);
    cluster.ejectionsChanged();
  }

  /** Every interval: un-eject hosts whose time is up, then the success-rate and failure-percentage checks. */
  synchronized void onInterval() {
    long now = System.nanoTime();
    List<UpstreamHost> all = cluster.hosts().hosts();
    boolean changed = false;
    int active = 0;
    for (UpstreamHost h : all) {
      HostState st = h.outlier;
      if (st.ejectedUntilNanos != 0 && now >= st.ejectedUntilNanos) {
        st.ejectedUntilNanos = 0;
        changed = true;
      } else if (st.ejectedUntilNanos == 0 && st.timesEjected > 0) {
        st.timesEjected--; // a healthy interval shortens the next ejection, as Envoy's decrement does
      }
      if (st.ejected(now)) {
        active++;
      }
    }
    ejectionsActive.set(active);
    if (changed) {
      cluster.ejectionsChanged();
    }
    List<double[]> counts = new ArrayList<>(all.size());
    for (UpstreamHost h : all) {
      counts.add(new double[] {h.outlier.successes.sumThenReset(), h.outlier.failures.sumThenReset()});
    }
    successRate(all, counts);
    failurePercentage(all, counts);
  }

  private void successRate(List<UpstreamHost> hosts, List<double[]> counts) {
    List<UpstreamHost> eligible = new ArrayList<>();
    List<Double> rates = new ArrayList<>();
    for (int i = 0; i < hosts.size(); i++) {
      double total = counts.get(i)[0] + counts.get(i)[1];
      if (total >= cfg.successRateRequestVolume()) {
        eligible.add(hosts.get(i));
        rates.add(100.0 * counts.get(i)[0] / total);
      }
    }
    if (eligible.size() < cfg.successRateMinimumHosts() || eligible.isEmpty()) {
      return;
    }
    double mean = rates.stream().mapToDouble(Double::doubleValue).average().orElse(100);
    double var = rates.stream().mapToDouble(r -> (r - mean) * (r - mean)).sum() / rates.size();
    double threshold = mean - cfg.successRateStdevFactor() * Math.sqrt(var);
    for (int i = 0; i < eligible.size(); i++) {
      if (rates.get(i) < threshold) {
        detectedSuccessRate.inc();
        if (ThreadLocalRandom.current().nextInt(100) < cfg.enforcingSuccessRate()) {
          eject(eligible.get(i), enforcedSuccessRate);
        }
      }
    }
  }

  private void failurePercentage(List<UpstreamHost> hosts, List<double[]> counts) {
    if (cfg.enforcingFailurePercentage() == 0) {
      return;
    }
    List<Integer> eligible = new ArrayList<>();
    for (int i = 0; i < hosts.size(); i++) {
      if (counts.get(i)[0] + counts.get(i)[1] >= cfg.failurePercentageRequestVolume()) {
        eligible.add(i);
      }
    }
    if (eligible.size() < cfg.failurePercentageMinimumHosts()) {
      return;
    }
    for (int i : eligible) {
      double total = counts.get(i)[0] + counts.get(i)[1];
      if (100.0 * counts.get(i)[1] / total >= cfg.failurePercentageThreshold()) {
        detectedFailurePercentage.inc();
        if (ThreadLocalRandom.current().nextInt(100) < cfg.enforcingFailurePercentage()) {
          eject(hosts.get(i), enforcedFailurePercentage);
        }
      }
    }
  }
}
