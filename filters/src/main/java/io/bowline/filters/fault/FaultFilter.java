package io.bowline.filters.fault;

import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.router.Route;
import io.bowline.core.router.RouteAction;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One stream's fault decision, made once on its request headers: delay it (then go on), abort it with a local reply
 * (flag {@code FI}), both (delay first), or leave it alone. Header-controlled faults read Envoy's
 * {@code x-envoy-fault-*} request headers.
 */
final class FaultFilter implements HttpFilter {
  static final String DELAY_HEADER = "x-envoy-fault-delay-request";
  static final String DELAY_PERCENT_HEADER = "x-envoy-fault-delay-request-percentage";
  static final String ABORT_HEADER = "x-envoy-fault-abort-request";
  static final String ABORT_GRPC_HEADER = "x-envoy-fault-abort-grpc-request";
  static final String ABORT_PERCENT_HEADER = "x-envoy-fault-abort-request-percentage";
  static final String THROUGHPUT_HEADER = "x-envoy-fault-throughput-response";
  static final String THROUGHPUT_PERCENT_HEADER = "x-envoy-fault-throughput-response-percentage";
  static final String DOWNSTREAM_NODE_HEADER = "x-envoy-downstream-service-node";

  private final FaultConfig base;
  private final String filterName;
  private final FaultFilterFactory.Stats stats;
  private final HttpFilterCallbacks callbacks;
  private @Nullable ScheduledFuture<?> delayTimer;
  private boolean counted;

  FaultFilter(FaultConfig base, String filterName, FaultFilterFactory.Stats stats, HttpFilterCallbacks callbacks) {
    this.base = base;
    this.filterName = filterName;
    this.stats = stats;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    Object perRoute = callbacks.perRouteConfig(filterName);
    FaultConfig c = perRoute instanceof FaultConfig r ? r : base;
    if (c.delay() == null && c.abort() == null && c.responseRateLimit() == null) {
      return FilterStatus.CONTINUE;
    }
    HttpHeaders h = request.headers();
    if (!applies(c, h)) {
      return FilterStatus.CONTINUE;
    }
    long delayMs = delayMs(c.delay(), h);
    boolean abort = abortSelected(c.abort(), h);
    long kibPerSecond = abort ? 0 : rateLimitKib(c.responseRateLimit(), h); // an aborted request has no body to pace
    if (delayMs <= 0 && !abort && kibPerSecond <= 0) {
      return FilterStatus.CONTINUE;
    }
    if (stats.active().get() >= c.maxActiveFaults()) {
      stats.overflow().inc();
      return FilterStatus.CONTINUE;
    }
    stats.active().incrementAndGet();
    stats.activeFaults().inc();
    counted = true;
    if (kibPerSecond > 0) {
      stats.responseRlInjected().inc();
      callbacks.limitResponseRate(kibPerSecond * 1024);
    }
    if (delayMs > 0) {
      stats.delaysInjected().inc();
      callbacks.addResponseFlag("DI");
      delayTimer = callbacks.eventLoop().schedule(() -> {
        delayTimer = null;
        if (abort) {
          abort(c.abort(), h);
        } else {
          callbacks.continueRequest();
        }
      }, delayMs, TimeUnit.MILLISECONDS);
      return FilterStatus.STOP_ITERATION;
    }
    if (!abort) {
      return FilterStatus.CONTINUE; // only the response is paced
    }
    abort(c.abort(), h);
    return FilterStatus.STOP_ITERATION;
  }

  /** The pace in KiB/s for this request, or 0 when it is not paced. */
  private static long rateLimitKib(FaultConfig.@Nullable ResponseRateLimit r, HttpHeaders h) {
    if (r == null) {
      return 0;
    }
    long kib = r.kibPerSecond();
    int perMillion = r.perMillion();
    if (r.fromHeader()) {
      Integer asked = intHeader(h, THROUGHPUT_HEADER);
      if (asked == null || asked <= 0) {
        return 0;
      }
      kib = asked;
      perMillion = headerPercent(h, THROUGHPUT_PERCENT_HEADER, perMillion);
    }
    return selected(perMillion) ? kib : 0;
  }

  private void abort(FaultConfig.Abort a, HttpHeaders h) {
    stats.abortsInjected().inc();
    int status = a.httpStatus();
    Integer grpc = a.grpcStatus();
    if (a.fromHeader()) {
      Integer headerStatus = intHeader(h, ABORT_HEADER);
      Integer headerGrpc = intHeader(h, ABORT_GRPC_HEADER);
      status = headerStatus != null && headerStatus >= 200 && headerStatus < 600 ? headerStatus : 200;
      grpc = headerGrpc;
    }
    callbacks.sendLocalReply(status, "fault filter abort", grpc, "FI", "fault_filter_abort");
  }

  /** upstream_cluster, headers and downstream_nodes must all allow the fault. */
  private boolean applies(FaultConfig c, HttpHeaders h) {
    for (HeaderMatcher m : c.headers()) {
      if (!m.matches(h)) {
        return false;
      }
    }
    if (!c.downstreamNodes().isEmpty() && !c.downstreamNodes().contains(h.get(DOWNSTREAM_NODE_HEADER))) {
      return false;
    }
    if (c.upstreamCluster() != null) {
      Route r = callbacks.route();
      if (r == null || !(r.action() instanceof RouteAction.Forward f)
          || f.clusters().stream().noneMatch(w -> w.name().equals(c.upstreamCluster()))) {
        return false;
      }
    }
    return true;
  }

  private static long delayMs(FaultConfig.@Nullable Delay d, HttpHeaders h) {
    if (d == null) {
      return 0;
    }
    long ms = d.fixedMs();
    int perMillion = d.perMillion();
    if (d.fromHeader()) {
      Integer asked = intHeader(h, DELAY_HEADER);
      if (asked == null || asked <= 0) {
        return 0;
      }
      ms = asked;
      perMillion = headerPercent(h, DELAY_PERCENT_HEADER, perMillion);
    }
    return selected(perMillion) ? ms : 0;
  }

  private static boolean abortSelected(FaultConfig.@Nullable Abort a, HttpHeaders h) {
    if (a == null) {
      return false;
    }
    int perMillion = a.perMillion();
    if (a.fromHeader()) {
      if (intHeader(h, ABORT_HEADER) == null && intHeader(h, ABORT_GRPC_HEADER) == null) {
        return false;
      }
      perMillion = headerPercent(h, ABORT_PERCENT_HEADER, perMillion);
    }
    return selected(perMillion);
  }

  /** Envoy: the header's percentage (out of the configured denominator's 100) can only lower the configured one. */
  private static int headerPercent(HttpHeaders h, String name, int configured) {
    Integer p = intHeader(h, name);
    if (p == null || p < 0) {
      return configured;
    }
    return (int) Math.min(configured, p * 10_000L);
  }

  private static boolean selected(int perMillion) {
    return perMillion >= 1_000_000 || ThreadLocalRandom.current().nextInt(1_000_000) < perMillion;
  }

  private static @Nullable Integer intHeader(HttpHeaders h, String name) {
    String v = h.get(name);
    if (v == null) {
      return null;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public void onDestroy() {
    if (delayTimer != null) {
      delayTimer.cancel(false);
      delayTimer = null;
    }
    if (counted) {
      counted = false;
      stats.active().decrementAndGet();
      stats.activeFaults().dec();
    }
  }
}
