package io.bowline.filters.istio;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.xds.ConfigException;
import java.util.Locale;

/**
 * The value of a label that {@code metrics[].dimensions} adds. Istio writes these as CEL expressions; bowline
 * evaluates the attribute forms dashboards use — a string literal, {@code request.host/path/url_path/method/scheme/
 * protocol/id/useragent/referer/query/size}, {@code request.headers['x']}, {@code response.code/code_details/flags/
 * grpc_status/size}, integer literals, {@code response.headers['x']}, {@code source.address/port}, {@code destination.address/port},
 * {@code connection.mtls/requested_server_name/id}, {@code xds.cluster_name}, {@code xds.route_name},
 * {@code upstream.address/port}, each also inside {@code string(...)} — and refuses any other expression by its field,
 * instead of reporting a wrong value.
 */
@FunctionalInterface
interface Dimension {
  String value(AccessLogFacts f);

  static Dimension parse(String expr, String path) throws ConfigException {
    String e = expr.trim();
    if (e.startsWith("string(") && e.endsWith(")")) {
      e = e.substring(7, e.length() - 1).trim();
    }
    if (e.length() >= 2 && (e.startsWith("'") && e.endsWith("'") || e.startsWith("\"") && e.endsWith("\""))) {
      String literal = e.substring(1, e.length() - 1);
      return f -> literal;
    }
    if (!e.isEmpty() && e.chars().allMatch(c -> c >= '0' && c <= '9') && e.length() <= 18) {
      String literal = Long.toString(Long.parseLong(e)); // a CEL int literal, as a custom metric's value often is
      return f -> literal;
    }
    String header = headerName(e, "request.headers[");
    if (header != null) {
      return f -> orUnknown(f.requestHeader(header));
    }
    String respHeader = headerName(e, "response.headers[");
    if (respHeader != null) {
      return f -> orUnknown(f.responseHeaders == null ? null : f.responseHeaders.get(respHeader));
    }
    return switch (e) {
      case "request.host" -> f -> orUnknown(f.requestHeader("host"));
      case "request.path" -> f -> orUnknown(f.path);
      case "request.url_path" -> f -> {
        String p = f.path;
        int q = p == null ? -1 : p.indexOf('?');
        return orUnknown(q < 0 ? p : p.substring(0, q));
      };
      case "request.method" -> f -> orUnknown(f.method);
      case "request.scheme" -> f -> orUnknown(f.scheme);
      case "request.protocol" -> f -> orUnknown(f.protocol);
      case "response.code" -> f -> Integer.toString(f.responseCode);
      case "request.size" -> f -> Long.toString(f.bytesReceived); // the body's bytes
      case "response.size" -> f -> Long.toString(f.bytesSent);
      case "xds.cluster_name" -> f -> orUnknown(f.upstreamCluster);
      case "xds.route_name" -> f -> orUnknown(f.routeName);
      case "upstream.address" -> f -> f.upstreamHostText != null ? f.upstreamHostText
          : f.upstreamHost == null ? Workload.UNKNOWN : io.bowline.core.transport.AddressText.of(f.upstreamHost);
      case "upstream.port" -> f -> port(f.upstreamHost);
      case "destination.address" -> f -> address(f.downstreamLocal);
      case "destination.port" -> f -> port(f.downstreamLocal);
      case "source.address" -> f -> address(f.downstreamRemote);
      case "source.port" -> f -> port(f.downstreamRemote);
      case "connection.mtls" -> f -> Boolean.toString(f.tls != null
          && io.bowline.core.tls.Certificates.peer(f.tls) != null);
      case "connection.requested_server_name" -> f -> orUnknown(f.requestedServerName);
      case "connection.id" -> f -> Long.toString(f.connectionId);
      case "request.id" -> f -> orUnknown(f.requestHeader("x-request-id"));
      case "request.useragent" -> f -> orUnknown(f.requestHeader("user-agent"));
      case "request.referer" -> f -> orUnknown(f.requestHeader("referer"));
      case "request.query" -> f -> {
        String p = f.path;
        int q = p == null ? -1 : p.indexOf('?');
        return q < 0 ? Workload.UNKNOWN : p.substring(q + 1);
      };
      case "response.code_details" -> f -> orUnknown(f.responseCodeDetails);
      case "response.flags" -> f -> orUnknown(f.responseFlags); // Envoy's short form, "-" for none
      case "response.grpc_status" -> f -> f.grpcStatus < 0 ? Workload.UNKNOWN : Integer.toString(f.grpcStatus);
      default -> throw new ConfigException(path, "expression '" + expr + "' is not supported by bowline yet");
    };
  }

  private static String headerName(String e, String prefix) {
    if (!e.startsWith(prefix) || !e.endsWith("]")) {
      return null;
    }
    String inner = e.substring(prefix.length(), e.length() - 1).trim();
    if (inner.length() >= 2 && (inner.startsWith("'") && inner.endsWith("'")
        || inner.startsWith("\"") && inner.endsWith("\""))) {
      return inner.substring(1, inner.length() - 1).toLowerCase(Locale.ROOT);
    }
    return null;
  }

  /**
   * An expression's value as a custom metric's amount, as Istio reads it: a non-negative integer, else 0 (no
   * exception per request for a value that is not one).
   */
  static long integer(String v) {
    if (v.isEmpty() || v.length() > 18) {
      return 0;
    }
    long n = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** A CEL int: an address's port, or unknown without one. */
  private static String port(java.net.@org.jspecify.annotations.Nullable InetSocketAddress a) {
    return a == null ? Workload.UNKNOWN : Integer.toString(a.getPort());
  }

  private static String address(java.net.@org.jspecify.annotations.Nullable InetSocketAddress a) {
    return a == null ? Workload.UNKNOWN : io.bowline.core.transport.AddressText.of(a);
  }

  private static String orUnknown(String v) {
    return v == null || v.isEmpty() ? Workload.UNKNOWN : v;
  }
}
