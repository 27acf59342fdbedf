package io.bowline.filters.rbac;

import io.bowline.core.filter.HttpFilterCallbacks;
import io.netty.handler.codec.http.HttpHeaders;

/** What RBAC's matchers read of one request: its headers, its routed path and its connection, through the stream. */
record RbacRequest(HttpHeaders headers, String path, HttpFilterCallbacks stream) {
  /** The path RBAC matches: as routed (normalised by the connection manager), without the query. */
  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }
}
