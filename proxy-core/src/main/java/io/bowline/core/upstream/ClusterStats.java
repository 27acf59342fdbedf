package io.bowline.core.upstream;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Histogram;
import io.bowline.core.stats.Stats;

/** {@code cluster.<name>.*} stats, resolved once per cluster; per-code counters resolved on first use of the code. */
public final class ClusterStats {
  private final Stats.Scope scope;
  public final Counter cxTotal;
  public final Gauge cxActive;
  public final Counter cxConnectFail;
  public final Counter cxConnectTimeout;
  public final Counter cxDestroy;
  public final Counter cxDestroyLocal;
  public final Counter cxDestroyRemote;
  public final Counter cxProtocolError;
  public final Counter cxHttp1Total;
  public final Counter cxHttp2Total;
  public final Counter rqTotal;
  public final Gauge rqActive;
  public final Counter rqTimeout;
  public final Counter rqPendingTotal;
  public final Counter rqPendingFailureEject;
  public final Counter rqRxReset;
  public final Counter rqTxReset;
  public final Counter rqCompleted;
  public final io.bowline.core.stats.ResponseCodeCounters codes;
  public final Counter noHealthyHost;
  public final Counter membershipChange;
  public final Gauge membershipTotal;
  public final Gauge membershipHealthy;
  public final Histogram rqTime;
  public final Histogram cxConnectMs;
  /** EDS updates of this cluster's endpoints, with Envoy's names. */
  public final Counter updateAttempt;
  public final Counter updateSuccess;
  public final Counter updateRejected;
  public final Counter updateEmpty;
  public final Counter rqRetry;
  public final Counter rqRetryOverflow;
  public final Counter rqPendingOverflow;
  public final Counter cxOverflow;
  public final Counter cxPoolOverflow;
  public final Counter rqRetrySuccess;
  public final Counter rqRetryLimitExceeded;
  public final Counter rqRetryBackoffExponential;
  public final Counter rqRetryBackoffRatelimited;
  public final Counter rqPerTryTimeout;
  public final Counter rqPerTryIdleTimeout;
  /** upstream_rq_<code>, resolved once per code; allocated on the first response (a mesh has many idle clusters). */

  public Stats.Scope scope() {
    return scope;
  }

  public ClusterStats(Stats.Scope s) {
    this.scope = s;
    cxTotal = s.counter("upstream_cx_total");
    updateAttempt = s.counter("update_attempt");
    updateSuccess = s.counter("update_success");
    updateRejected = s.counter("update_rejected");
    updateEmpty = s.counter("update_empty");
    rqRetry = s.counter("upstream_rq_retry");
    rqRetryOverflow = s.counter("upstream_rq_retry_overflow");
    rqPendingOverflow = s.counter("upstream_rq_pending_overflow");
    cxOverflow = s.counter("upstream_cx_overflow");
    cxPoolOverflow = s.counter("upstream_cx_pool_overflow");
    rqRetrySuccess = s.counter("upstream_rq_retry_success");
    rqRetryLimitExceeded = s.counter("upstream_rq_retry_limit_exceeded");
    rqRetryBackoffExponential = s.counter("upstream_rq_retry_backoff_exponential");
    rqRetryBackoffRatelimited = s.counter("upstream_rq_retry_backoff_ratelimited");
    rqPerTryTimeout = s.counter("upstream_rq_per_try_timeout");
    rqPerTryIdleTimeout = s.counter("upstream_rq_per_try_idle_timeout");
    cxActive = s.gauge("upstream_cx_active");
    cxConnectFail = s.counter("upstream_cx_connect_fail");
    cxConnectTimeout = s.counter("upstream_cx_connect_timeout");
    cxDestroy = s.counter("upstream_cx_destroy");
    cxDestroyLocal = s.counter("upstream_cx_destroy_local");
    cxDestroyRemote = s.counter("upstream_cx_destroy_remote");
    cxProtocolError = s.counter("upstream_cx_protocol_error");
    cxHttp1Total = s.counter("upstream_cx_http1_total");
    cxHttp2Total = s.counter("upstream_cx_http2_total");
    rqTotal = s.counter("upstream_rq_total");
    rqActive = s.gauge("upstream_rq_active");
    rqTimeout = s.counter("upstream_rq_timeout");
    rqPendingTotal = s.counter("upstream_rq_pending_total");
    rqPendingFailureEject = s.counter("upstream_rq_pending_failure_eject");
    rqRxReset = s.counter("upstream_rq_rx_reset");
    rqTxReset = s.counter("upstream_rq_tx_reset");
    rqCompleted = s.counter("upstream_rq_completed");
    codes = new io.bowline.core.stats.ResponseCodeCounters(s, "upstream_rq_");
    noHealthyHost = s.counter("upstream_cx_none_healthy");
    membershipChange = s.counter("membership_change");
    membershipTotal = s.gauge("membership_total");
    membershipHealthy = s.gauge("membership_healthy");
    rqTime = s.histogram("upstream_rq_time");
    cxConnectMs = s.histogram("upstream_cx_connect_ms");
  }

  /** Counts a response by class and by exact code, as Envoy's upstream_rq_2xx and upstream_rq_200. */
  public void responseCode(int status) {
    codes.count(status);
  }
}
