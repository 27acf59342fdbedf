package io.bowline.core.filter;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * One HTTP filter instance, created per stream and confined to the stream's event loop. Implement only the hooks you
 * need. Header objects are borrowed: edit them in place during the call, keep no reference after it — except for a
 * request held with STOP_ITERATION, whose headers may be edited until {@code continueRequest()}.
 */
public interface HttpFilter {
  /** Request headers arrived. Return STOP_ITERATION to hold the stream and call {@code continueRequest()} later. */
  default FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    return FilterStatus.CONTINUE;
  }

  /** Response headers arrived from upstream (or a local reply is being sent). */
  default void onResponseHeaders(HttpResponse response) {}

  /**
   * The stream is over: what happened, as the access log sees it (status, flags, bytes, timings, peers). Called on
   * the event loop before {@link #onDestroy}, and only for filters whose provider {@link HttpFilterProvider#logs()}.
   * Envoy's filters that report (Istio's stats) do it here. The facts may be kept; their header maps must not be
   * changed.
   */
  default void onLog(io.bowline.core.accesslog.AccessLogFacts facts) {}

  /** The stream ended (completed, reset, or replied locally). Release anything held here. */
  default void onDestroy() {}
}
