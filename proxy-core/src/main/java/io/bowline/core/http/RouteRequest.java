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
    if (f.templateRewrite() != null) {
      String rewritten = f.templateRewrite().apply(path);
      return rewritten != null ? rewritten : path;
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
  /**
   * x-forwarded-for and x-forwarded-proto as Envoy's connection manager sets them, then Envoy's internal/external
   * decision: internal when, after that, x-forwarded-for holds a single address (with use_remote_address: it was
   * absent before; without: the client's, with no trusted hops) and the address is internal (internal_address_config).
   * Internal requests get {@code x-envoy-internal: true}; external ones lose it and the x-envoy-* request controls
   * (retries, timeouts, ...) a client must not set, plus, at the edge, the downstream-service and decorator headers.
   * Returns whether the request is internal.
   */
  static boolean forwardedHeaders(HttpHeaders h, HttpConnectionContext conn) {
    HcmConfig hcm = conn.hcm();
    String xff = h.get(ProxyHeaders.X_FORWARDED_FOR);
    java.net.InetAddress finalRemote;
    boolean trusted;
    if (hcm.useRemoteAddress()) {
      trusted = xff == null || xff.isEmpty();
      h.set(ProxyHeaders.X_FORWARDED_FOR, trusted ? conn.remoteIp() : xff + "," + conn.remoteIp());
      h.set(ProxyHeaders.X_FORWARDED_PROTO, conn.tls() ? ProxyHeaders.HTTPS : ProxyHeaders.HTTP);
      finalRemote = conn.remote().getAddress();
    } else {
      if (!h.contains(ProxyHeaders.X_FORWARDED_PROTO)) {
        h.set(ProxyHeaders.X_FORWARDED_PROTO, conn.tls() ? ProxyHeaders.HTTPS : ProxyHeaders.HTTP);
      }
      trusted = xff != null && hcm.xffNumTrustedHops() == 0 && xff.indexOf(',') < 0;
      finalRemote = trusted ? literalIp(xff.trim()) : null;
    }
    boolean internal = trusted && finalRemote != null && isInternal(finalRemote, hcm.internalAddresses());
    if (internal) {
      h.set(X_ENVOY_INTERNAL, "true");
    } else if (ProxyHeaders.hasEnvoyHeader(h)) { // one pass first: most external requests carry none
      for (int i = 0; i < EXTERNAL_STRIPPED.length; i++) {
        h.remove(EXTERNAL_STRIPPED[i]);
      }
      if (hcm.useRemoteAddress()) { // an edge request
        for (int i = 0; i < EDGE_STRIPPED.length; i++) {
          h.remove(EDGE_STRIPPED[i]);
        }
      }
    }
    return internal;
  }

  /**
   * The address {@code skip} entries from the right end of an x-forwarded-for value (0: the last), or null when
   * there are too few entries or that one is not an IP literal.
   */
  static java.net.@org.jspecify.annotations.Nullable InetAddress fromRightOfXff(
      @org.jspecify.annotations.Nullable String xff, int skip) {
    if (xff == null) {
      return null;
    }
    int end = xff.length();
    for (int i = 0; i <= skip; i++) {
      int comma = xff.lastIndexOf(',', end - 1);
      if (i == skip) {
        return literalIp(xff.substring(comma + 1, end).trim());
      }
      if (comma < 0) {
        return null;
      }
      end = comma;
    }
    return null;
  }

  static final io.netty.util.AsciiString X_ENVOY_INTERNAL = io.netty.util.AsciiString.cached("x-envoy-internal");
  /** What Envoy strips from every external request (ConnectionManagerUtility::cleanInternalHeaders). */
  private static final io.netty.util.AsciiString[] EXTERNAL_STRIPPED = names("x-envoy-internal",
      "x-envoy-retriable-status-codes", "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-max-retries",
      "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms",
      "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms", "x-envoy-force-trace",
      "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout");
  /** And from external requests at the edge (use_remote_address). */
  private static final io.netty.util.AsciiString[] EDGE_STRIPPED = names("x-envoy-decorator-operation",
      "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node");

  private static io.netty.util.AsciiString[] names(String... n) {
    io.netty.util.AsciiString[] out = new io.netty.util.AsciiString[n.length];
    for (int i = 0; i < n.length; i++) {
      out[i] = io.netty.util.AsciiString.cached(n[i]);
    }
    return out;
  }

  private static boolean isInternal(java.net.InetAddress a, java.util.List<io.bowline.core.listener.CidrRange> ranges) {
    for (int i = 0; i < ranges.size(); i++) {
      if (ranges.get(i).contains(a)) {
        return true;
      }
    }
    return false;
  }

  private static java.net.@org.jspecify.annotations.Nullable InetAddress literalIp(String s) {
    byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(s);
    try {
      return ip == null ? null : java.net.InetAddress.getByAddress(ip);
    } catch (java.net.UnknownHostException e) {
      return null;
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
    java.net.InetAddress ip = literalIp(host);
    return ip == null || port < 1 || port > 65535 ? null : new java.net.InetSocketAddress(ip, port);
  }
}
