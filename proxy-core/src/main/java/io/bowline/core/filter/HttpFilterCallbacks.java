package io.bowline.core.filter;

import io.bowline.core.router.Route;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

/** What a filter may ask of its stream. All calls must be made on {@link #eventLoop()}. */
public interface HttpFilterCallbacks {
  EventLoop eventLoop();

  /** The route selected for the stream, or null when none matched. */
  @Nullable Route route();

  /** The request's method, path (as routed, with its query) and scheme. */
  io.bowline.core.router.RequestLine requestLine();

  /** The virtual host of the selected route, or null when none matched. */
  default io.bowline.core.router.@Nullable VirtualHost virtualHost() {
    return null;
  }

  /**
   * The client's address as Envoy trusts it: the peer's with use_remote_address and no trusted hops, else the
   * x-forwarded-for entry {@code xff_num_trusted_hops} from the right (the peer's when there is none).
   */
  java.net.InetSocketAddress trustedClient();

  /** The downstream connection's peer address, as the socket has it (Envoy's direct remote address). */
  default java.net.@Nullable InetSocketAddress directRemote() {
    return null;
  }

  /** The downstream connection's local address (the destination the client dialled). */
  default java.net.@Nullable InetSocketAddress downstreamLocal() {
    return null;
  }

  /** The downstream connection's TLS session, or null over plaintext. */
  default javax.net.ssl.@Nullable SSLSession downstreamTls() {
    return null;
  }

  /** The SNI the client sent, or null. */
  default @Nullable String requestedServerName() {
    return null;
  }

  /**
   * The cluster the request will go to: for weighted clusters the pick is made now and kept for the request, as Envoy
   * picks when it selects the route. Null without a forwarding route or when a cluster_header is absent.
   */
  @Nullable String destinationCluster();

  /** The selected route's per-filter config for the filter named {@code filterName} (its HCM name), or null. */
  @Nullable Object perRouteConfig(String filterName);

  /** Re-select the route after a filter changed the headers routing looks at. */
  void clearRouteCache();

  /**
   * Pace the response body to {@code bytesPerSecond} (the fault filter's response_rate_limit); the upstream's timers
   * stop when its response ends, the stream when the paced body is out. Call before the response starts.
   */
  void limitResponseRate(long bytesPerSecond);

  /**
   * Sets a string object in the stream's filter state under {@code key} (Envoy's StringAccessor), where later filters
   * and the route's {@code filter_state} hash policy read it.
   */
  void setFilterState(String key, String value);

  /** A string object of the stream's filter state, or null. */
  @Nullable String filterState(String key);

  /**
   * Merges {@code fields} into the stream's dynamic metadata under {@code namespace} (a filter's name: jwt_authn
   * puts the verified payload there), where later filters (RBAC's metadata matchers) read it.
   */
  default void setDynamicMetadata(String namespace, com.google.protobuf.Struct fields) {}

  /** The stream's dynamic metadata of {@code namespace}, or null. */
  default com.google.protobuf.@Nullable Struct dynamicMetadata(String namespace) {
    return null;
  }

  /** Adds an Envoy response flag to the stream's access-log entry (e.g. {@code DI} for an injected delay). */
  void addResponseFlag(String flag);

  /**
   * Istio's istio.alpn: the ALPN protocols the upstream TLS connection offers, by the upstream HTTP protocol (a null
   * list leaves the cluster's). bowline's HTTP/1 upstream is always HTTP/1.1, so {@code http10} is never chosen.
   */
  record UpstreamAlpn(java.util.@Nullable List<String> http10, java.util.@Nullable List<String> http11,
      java.util.@Nullable List<String> http2) {}

  /** Sets this request's {@link UpstreamAlpn}; takes effect for the connection it is sent on. */
  default void overrideUpstreamAlpn(UpstreamAlpn alpn) {}

  /** Resume a stream held by STOP_ITERATION. */
  void continueRequest();

  /**
   * The start of a held request's body, copied: at most the {@code maxBytes} asked for; {@code complete} when that is
   * the whole body; {@code received} is how much had arrived when it was taken.
   */
  record RequestBody(byte[] bytes, boolean complete, long received) {}

  /**
   * For a filter holding the request (after STOP_ITERATION): calls {@code ready} on the event loop once the request
   * has ended or {@code maxBytes} of its body have arrived — or the stream stopped reading the client because too much
   * is buffered — with a copy of its first {@code maxBytes}. The body itself stays with the stream and goes upstream
   * after {@link #continueRequest()}. Called at most once; not at all if the stream ends first.
   */
  default void awaitRequestBody(int maxBytes, java.util.function.Consumer<RequestBody> ready) {
    ready.accept(new RequestBody(new byte[0], true, 0));
  }

  /**
   * Answer the request from the proxy. For a gRPC request the reply is trailers-only with the gRPC status that Envoy
   * maps from {@code status}, unless {@code grpcStatus} is given.
   */
  void sendLocalReply(int status, String body, @Nullable Integer grpcStatus, String responseFlag, String details);

  /** The same, with headers for the reply (e.g. {@code www-authenticate} on a 401). */
  default void sendLocalReply(int status, String body, @Nullable Integer grpcStatus, String responseFlag,
      String details, java.util.Map<String, String> headers) {
    sendLocalReply(status, body, grpcStatus, responseFlag, details);
  }
}
