package io.bowline.core.http;

import io.bowline.core.router.RouteAction;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

/** Builds the Location of a route's redirect action from the request, as Envoy's RedirectAction describes. */
final class RedirectBuilder {
  private RedirectBuilder() {}

  static String location(RouteAction.Redirect rd, HttpRequest request, RouteRequest.Target target, boolean tls,
      String matchedPrefix) {
    String scheme = rd.scheme() != null ? rd.scheme() : (tls ? "https" : "http");
    String hostHeader = request.headers().get(HttpHeaderNames.HOST, "");
    String host = hostHeader;
    int port = -1;
    int colon = hostHeader.lastIndexOf(':');
    if (colon > 0 && hostHeader.indexOf(']') < colon) {
      host = hostHeader.substring(0, colon);
      try {
        port = Integer.parseInt(hostHeader.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
    }
    if (rd.host() != null) {
      host = rd.host();
    }
    if (rd.port() > 0) {
      port = rd.port();
    }
    if (rd.scheme() != null && rd.port() == 0) {
      port = -1; // a scheme change drops the old port unless one is given, as Envoy does
    }
    boolean defaultPort = port < 0 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    String path = target.path();
    if (rd.path() != null) {
      path = rd.path();
    } else if (rd.prefixRewrite() != null) {
      path = rd.prefixRewrite() + path.substring(Math.min(matchedPrefix.length(), path.length()));
    } else if (rd.regexRewrite() != null) {
      path = rd.regexRewrite().matcher(path).replaceAll(rd.regexSubstitution());
    }
    String query = rd.stripQuery() ? null : target.query();
    if (rd.path() != null && rd.path().contains("?")) {
      query = null; // a path_redirect with its own query replaces the original
    }
    return scheme + "://" + host + (defaultPort ? "" : ":" + port) + path + (query == null ? "" : "?" + query);
  }
}
