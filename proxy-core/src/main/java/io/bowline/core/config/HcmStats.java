package io.bowline.core.config;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Histogram;
import io.bowline.core.stats.Stats;
import io.bowline.core.transport.ConnectionBytes;

/** {@code http.<stat_prefix>.*} stats, resolved once per HCM config. */
public final class HcmStats {
  public final Counter rqTotal;
  public final Gauge rqActive;
  public final Counter rq1xx;
  public final Counter rq2xx;
  public final Counter rq3xx;
  public final Counter rq4xx;
  public final Counter rq5xx;
  public final Counter cxTotal;
  public final Gauge cxActive;
  public final Counter cxHttp1Total;
  public final Counter cxHttp2Total;
  public final Counter rqHttp1Total;
  public final Counter rqHttp2Total;
  public final Counter rqTimeout;
  public final Counter rqIdleTimeout;
  public final Counter rqMaxDurationReached;
  public final Counter cxIdleTimeout;
  public final Counter rsTooLarge;
  public final Counter noRoute;
  public final Counter rqNonRelativePath;
  public final Counter rqDirectResponse;
  public final Counter rqRedirect;
  public final Counter cxProtocolError;
  public final Counter rqRxReset;
  public final Counter rqTxReset;
  public final Counter headersTimeout;
  public final Counter cxDrainClose;
  public final Histogram rqTime;
  public final Counter noCluster;
  public final Counter rqCompleted;
  public final Counter cxDestroy;
  public final Counter cxDestroyActiveRq;
  public final Histogram cxLengthMs;
  public final Gauge cxHttp1Active;
  public final Gauge cxHttp2Active;
  public final Counter cxSslTotal;
  public final Gauge cxSslActive;
  public final Counter cxUpgradesTotal;
  public final Gauge cxUpgradesActive;
  public final Counter cxMaxDurationReached;
  /** Envoy roots its HTTP/2 codec stats at {@code http2.}, outside the HCM's prefix. */
  public final Counter http2PriorityFlood;
  public final Counter http2WindowUpdateFlood;
  public final ConnectionBytes bytes;

  private HcmStats(Stats.Scope s) {
    rqTotal = s.counter("downstream_rq_total");
    rqActive = s.gauge("downstream_rq_active");
    rq1xx = s.counter("downstream_rq_1xx");
    rq2xx = s.counter("downstream_rq_2xx");
    rq3xx = s.counter("downstream_rq_3xx");
    rq4xx = s.counter("downstream_rq_4xx");
    rq5xx = s.counter("downstream_rq_5xx");
    cxTotal = s.counter("downstream_cx_total");
    cxActive = s.gauge("downstream_cx_active");
    cxHttp1Total = s.counter("downstream_cx_http1_total");
    cxHttp2Total = s.counter("downstream_cx_http2_total");
    rqHttp1Total = s.counter("downstream_rq_http1_total");
    rqHttp2Total = s.counter("downstream_rq_http2_total");
    rqTimeout = s.counter("downstream_rq_timeout");
    rqIdleTimeout = s.counter("downstream_rq_idle_timeout");
    rqMaxDurationReached = s.counter("downstream_rq_max_duration_reached");
    cxIdleTimeout = s.counter("downstream_cx_idle_timeout");
    rsTooLarge = s.counter("rs_too_large");
    noRoute = s.counter("no_route");
    rqNonRelativePath = s.counter("downstream_rq_non_relative_path");
    rqDirectResponse = s.counter("rq_direct_response");
    rqRedirect = s.counter("rq_redirect");
    noCluster = s.counter("no_cluster");
    rqCompleted = s.counter("downstream_rq_completed");
    cxDestroy = s.counter("downstream_cx_destroy");
    cxDestroyActiveRq = s.counter("downstream_cx_destroy_active_rq");
    cxLengthMs = s.histogram("downstream_cx_length_ms");
    cxHttp1Active = s.gauge("downstream_cx_http1_active");
    cxHttp2Active = s.gauge("downstream_cx_http2_active");
    cxSslTotal = s.counter("downstream_cx_ssl_total");
    cxSslActive = s.gauge("downstream_cx_ssl_active");
    cxUpgradesTotal = s.counter("downstream_cx_upgrades_total");
    cxUpgradesActive = s.gauge("downstream_cx_upgrades_active");
    cxMaxDurationReached = s.counter("downstream_cx_max_duration_reached");
    cxProtocolError = s.counter("downstream_cx_protocol_error");
    rqRxReset = s.counter("downstream_rq_rx_reset");
    rqTxReset = s.counter("downstream_rq_tx_reset");
    headersTimeout = s.counter("downstream_rq_header_timeout");
    cxDrainClose = s.counter("downstream_cx_drain_close");
    rqTime = s.histogram("downstream_rq_time");
    bytes = ConnectionBytes.downstream(s);
    Stats.Scope http2 = s.stats().scope("http2.");
    http2PriorityFlood = http2.counter("inbound_priority_frames_flood");
    http2WindowUpdateFlood = http2.counter("inbound_window_update_frames_flood");
  }

  /** A downstream connection of this HCM opened ({@code http2}: which codec; {@code tls}: over TLS). */
  public void connectionOpened(boolean http2, boolean tls) {
    cxTotal.inc();
    cxActive.inc();
    (http2 ? cxHttp2Total : cxHttp1Total).inc();
    (http2 ? cxHttp2Active : cxHttp1Active).inc();
    if (tls) {
      cxSslTotal.inc();
      cxSslActive.inc();
    }
  }

  /** It closed after {@code lifetimeNanos}, with or without a request in flight. */
  public void connectionClosed(boolean http2, boolean tls, long lifetimeNanos, boolean activeRequest) {
    cxActive.dec();
    (http2 ? cxHttp2Active : cxHttp1Active).dec();
    if (tls) {
      cxSslActive.dec();
    }
    cxDestroy.inc();
    if (activeRequest) {
      cxDestroyActiveRq.inc();
    }
    cxLengthMs.recordNanos(lifetimeNanos);
  }

  public static HcmStats of(Stats.Scope s) {
    return new HcmStats(s);
  }

  public Histogram rqTime() {
    return rqTime;
  }

  public void responseCode(int status) {
    switch (status / 100) {
      case 1 -> rq1xx.inc();
      case 2 -> rq2xx.inc();
      case 3 -> rq3xx.inc();
      case 4 -> rq4xx.inc();
      default -> rq5xx.inc();
    }
  }
}
