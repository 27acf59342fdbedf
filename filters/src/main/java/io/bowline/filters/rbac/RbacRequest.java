package io.bowline.filters.rbac;

import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.router.RequestLine;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.function.Function;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * What RBAC's matchers read: for a request, its headers, its routed path and its connection; for a connection (the
 * network filter), only the connection — a header or path matcher then sees nothing.
 */
record RbacRequest(HttpHeaders headers, String path, @Nullable RequestLine requestLine,
    @Nullable InetSocketAddress trustedClient, @Nullable InetSocketAddress directRemote,
    @Nullable InetSocketAddress local, @Nullable SSLSession tls, @Nullable String serverName,
    Function<String, @Nullable String> filterState,
    Function<String, com.google.protobuf.@Nullable Struct> metadata) {

  static RbacRequest of(HttpHeaders headers, String uri, HttpFilterCallbacks s) {
    return new RbacRequest(headers, pathOf(uri), s.requestLine(), s.trustedClient(), s.directRemote(),
        s.downstreamLocal(), s.downstreamTls(), s.requestedServerName(), s::filterState, s::dynamicMetadata);
  }

  static RbacRequest ofConnection(io.bowline.core.filter.ConnectionInfo c) {
    return new RbacRequest(EmptyHttpHeaders.INSTANCE, "", null, c.remote(), c.remote(), c.local(), c.tls(),
        c.serverName(), key -> c.filterState().get(key), namespace -> null);
  }

  /** The path RBAC matches: as routed (normalised by the connection manager), without the query. */
  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }
}
