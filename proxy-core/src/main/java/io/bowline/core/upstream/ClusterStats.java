package io.bowline.core.upstream;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Histogram;
import io.bowline.core.stats.ResponseCodeCounters;
import io.bowline.core.stats.Stats;
import io.bowline.core.transport.ByteMeter;
import io.bowline.core.transport.ConnectionBytes;

/**
 * A cluster's traffic stats ({@code cluster.<name>.upstream_cx_*}, {@code upstream_rq_*}), made when the cluster
 * first carries traffic ({@link Cluster#stats}) and shown as zeros until then ({@link #defer}), as Envoy's deferred
 * creation of cluster traffic stats does: a mesh pushes thousands of clusters to every proxy, and most of them never
 * see a request from it. Per-code counters are resolved on first use of the code.
 */
public final class ClusterStats {
  /** Every counter below, and the response classes', by name: shown before they are made. */
  private static final String[] COUNTERS = {
      "upstream_cx_total", "upstream_rq_retry", "upstream_rq_retry_overflow", "upstream_rq_pending_overflow",
      "upstream_cx_overflow", "upstream_cx_pool_overflow", "upstream_rq_retry_success",
      "upstream_rq_retry_limit_exceeded", "upstream_rq_retry_backoff_exponential",
      "upstream_rq_retry_backoff_ratelimited", "upstream_rq_per_try_timeout", "upstream_rq_per_try_idle_timeout",
      "upstream_cx_connect_fail", "upstream_cx_connect_timeout", "upstream_cx_destroy", "upstream_cx_destroy_local",
      "upstream_cx_destroy_remote", "upstream_cx_protocol_error", "upstream_cx_http1_total", "upstream_cx_http2_total",
      "upstream_rq_total", "upstream_rq_timeout", "upstream_rq_pending_total", "upstream_rq_pending_failure_eject",
      "upstream_rq_rx_reset", "upstream_rq_tx_reset", "upstream_rq_completed", "upstream_cx_none_healthy",
      "upstream_rq_1xx", "upstream_rq_2xx", "upstream_rq_3xx", "upstream_rq_4xx", "upstream_rq_5xx",
      "upstream_cx_rx_bytes_total", "upstream_cx_tx_bytes_total", "lb_healthy_panic"};
  /** The last is computed ({@link ConnectionBytes}), and shown as an unused 0 until then. */
  private static final String[] GAUGES = {"upstream_cx_active", "upstream_rq_active", "upstream_cx_tx_bytes_buffered"};
  private static final String RQ_TIME = "upstream_rq_time";
  private static final String CX_CONNECT_MS = "upstream_cx_connect_ms";
  private static final String CX_LENGTH_MS = "upstream_cx_length_ms";
  private static final String[] HISTOGRAMS = {RQ_TIME, CX_CONNECT_MS, CX_LENGTH_MS};

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
  public final ResponseCodeCounters codes;
  public final Counter noHealthyHost;
  public final Histogram rqTime;
  public final Histogram cxConnectMs;
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
  /** Requests (and tcp_proxy connections) load balanced over a priority in panic. */
  public final Counter lbHealthyPanic;
  /** Every upstream connection's bytes and lifetime, counted by the {@link #meter} in its pipeline. */
  public final ConnectionBytes bytes;
  /** {@code ssl.*}: made with the cluster's first TLS connection (most clusters of a plain mesh never have one). */
  private volatile io.bowline.core.tls.@org.jspecify.annotations.Nullable TlsStats ssl;

  /**
   * Shows the traffic stats of the cluster scoped by {@code s} as unused zeros without making them (two table slots
   * each); their histograms are shown empty, and made with the rest.
   */
  static void defer(Stats.Scope s) {
    s.deferCounters(COUNTERS, 12); // room for the update stats and the few exact response codes a cluster sees
    s.deferGauges(GAUGES);
    s.deferHistograms(HISTOGRAMS);
  }

  public Stats.Scope scope() {
    return scope;
  }

  ClusterStats(Stats.Scope s) {
    this.scope = s;
    cxTotal = s.counter("upstream_cx_total");
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
    lbHealthyPanic = s.counter("lb_healthy_panic");
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
    codes = new ResponseCodeCounters(s, "upstream_rq_");
    noHealthyHost = s.counter("upstream_cx_none_healthy");
    rqTime = s.histogram(RQ_TIME);
    cxConnectMs = s.histogram(CX_CONNECT_MS);
    bytes = ConnectionBytes.upstream(s, s.histogram(CX_LENGTH_MS));
  }

  /**
   * The handler that counts a new upstream connection's bytes and, when it closes, its lifetime since
   * {@code connectStartNanos}: after the TLS handler, before the codec.
   */
  public ByteMeter meter(long connectStartNanos) {
    return bytes.meter(connectStartNanos);
  }

  /** The cluster's TLS handshake stats, made on first use. */
  public io.bowline.core.tls.TlsStats ssl() {
    var s = ssl;
    if (s == null) {
      synchronized (this) {
        s = ssl;
        if (s == null) {
          ssl = s = io.bowline.core.tls.TlsStats.of(scope);
        }
      }
    }
    return s;
  }

  /** Counts a response by class and by exact code, as Envoy's upstream_rq_2xx and upstream_rq_200. */
  public void responseCode(int status) {
    codes.count(status);
  }
}
