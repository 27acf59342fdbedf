package io.bowline.core.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;

/** The stream's side of an upstream exchange. Every call arrives on the stream's event loop. */
public interface UpstreamListener {
  /**
   * Envoy's reset reason for a stream the upstream refused without processing it: RST_STREAM(REFUSED_STREAM), or
   * a GOAWAY whose last stream id is below it. Such a request may be sent again on another connection.
   */
  String REFUSED_STREAM = "remote refused stream reset";

  /** The load balancer chose {@code host} for this attempt (before any connection to it). */
  default void onUpstreamHostSelected(UpstreamHost host) {}

  /** A connection (H1) or stream (H2) is ready; the request may be written to it. */
  void onUpstreamReady(UpstreamRequest request);

  /** No connection could be had. */
  void onUpstreamFailure(UpstreamFailure failure, String detail);

  /** Response headers (for H1 1xx responses too, except 101 which is {@link #onUpgraded}). */
  void onResponseHeaders(HttpResponse response);

  /** Response body; owned by the callee. A {@link io.netty.handler.codec.http.LastHttpContent} ends the response. */
  void onResponseContent(HttpContent content);

  /** The upstream reset or closed before the response ended; {@code reason} is Envoy's reset reason text. */
  void onUpstreamReset(String reason, boolean protocolError);

  /** The upstream read burst ended: flush what was written downstream. */
  void onUpstreamReadComplete();

  /** The upstream connection or stream can (or can no longer) take more request bytes. */
  void onUpstreamWritabilityChanged(boolean writable);

  /** An H1 upstream answered 101 Switching Protocols: the request's connection is now a raw byte tunnel. */
  default void onUpgraded(HttpResponse response, io.netty.channel.Channel tunnel) {}

  /**
   * The ALPN protocols this request's upstream TLS connection must offer instead of the cluster's (Istio's istio.alpn
   * filter), or null. Connections offering other protocols are pooled apart.
   */
  default java.util.@org.jspecify.annotations.Nullable List<String> upstreamAlpn() {
    return null;
  }
}
