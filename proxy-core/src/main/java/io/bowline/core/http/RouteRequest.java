package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.router.RouteAction;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.util.regex.Matcher;
import org.jspecify.annotations.Nullable;

/** The request-side edits a forwarding route makes: path rewrites and host rewrites. */
final class RouteRequest {
  private RouteRequest() {}

  /** Splits a request target into path and query; absolute-form targets give their authority to {@code host}. */
  record Target(String path, @Nullable String query, @Nullable String authority) {
    String uri() {
      return query == null ? path : path + "?" + query;
    }
  }

  static @Nullable Target parse(String uri) {
    String authority = null;
    String rest = uri;
    if (!uri.startsWith("/")) {
      int scheme = uri.indexOf("://");
      if (scheme <= 0) {
        return uri.equals("*") ? new Target("*", null, null) : null;
      }
      int slash = uri.indexOf('/', scheme + 3);
      authority = slash < 0 ? uri.substring(scheme + 3) : uri.substring(scheme + 3, slash);
      rest = slash < 0 ? "/" : uri.substring(slash);
    }
    int q = rest.indexOf('?');
    if (q < 0) {
      return new Target(rest, null, authority);
    }
    return new Target(rest.substring(0, q), rest.substring(q + 1), authority);
  }

  /** The path after the route's prefix or regex rewrite. */
  static String rewritePath(String path, RouteAction.Forward f, String matchedPrefix) {
    if (f.prefixRewrite() != null) {
      return f.prefixRewrite() + path.substring(Math.min(matchedPrefix.length(), path.length()));
    }
    if (f.regexRewrite() != null) {
      Matcher m = f.regexRewrite().matcher(path);
      return m.replaceAll(f.regexSubstitution());
    }
    return path;
  }

  /** Host rewrite (literal now; auto when the upstream host is known) keeping the original in x-forwarded-host. */
  static void rewriteHost(HttpRequest request, String host) {
    HttpHeaders h = request.headers();
    String old = h.get(HttpHeaderNames.HOST);
    if (old != null && !old.equals(host)) {
      h.set("x-forwarded-host", old);
    }
    h.set(HttpHeaderNames.HOST, host);
  }

  /** x-forwarded-for and x-forwarded-proto, as Envoy's connection manager sets them. */
  static void forwardedHeaders(HttpHeaders h, HttpConnectionContext conn) {
    HcmConfig hcm = conn.hcm();
    if (hcm.useRemoteAddress()) {
      String xff = h.get(ProxyHeaders.X_FORWARDED_FOR);
      h.set(ProxyHeaders.X_FORWARDED_FOR, xff == null || xff.isEmpty() ? conn.remoteIp() : xff + "," + conn.remoteIp());
      h.set(ProxyHeaders.X_FORWARDED_PROTO, conn.tls() ? "https" : "http");
    } else if (!h.contains(ProxyHeaders.X_FORWARDED_PROTO)) {
      h.set(ProxyHeaders.X_FORWARDED_PROTO, conn.tls() ? "https" : "http");
    }
  }

  /** An {@code ip:port} or {@code [ipv6]:port} literal (no names: nothing is resolved), or null. */
  static java.net.@org.jspecify.annotations.Nullable InetSocketAddress ipAndPort(String v) {
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1) {
      return null;
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      return null; // an IPv6 address needs its brackets before a port
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(host);
    if (ip == null || port < 1 || port > 65535) {
      return null;
    }
    try {
      return new java.net.InetSocketAddress(java.net.InetAddress.getByAddress(ip), port);
    } catch (java.net.UnknownHostException e) {
      return null;
    }
  }
}
