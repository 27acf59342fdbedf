package io.bowline.filters.istio;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.xds.ConfigException;
import java.util.Locale;

/**
 * The value of a label that {@code metrics[].dimensions} adds. Istio writes these as CEL expressions; bowline
 * evaluates the attribute forms dashboards use — a string literal, {@code request.host/path/url_path/method/scheme/
 * protocol}, {@code request.headers['x']}, {@code response.code}, {@code response.headers['x']},
 * {@code xds.cluster_name}, {@code xds.route_name}, {@code upstream.address} — and refuses any other expression by
 * its field, instead of reporting a wrong value.
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
      case "xds.cluster_name" -> f -> orUnknown(f.upstreamCluster);
      case "xds.route_name" -> f -> orUnknown(f.routeName);
      case "upstream.address" -> f -> f.upstreamHostText != null ? f.upstreamHostText
          : f.upstreamHost == null ? Workload.UNKNOWN : io.bowline.core.transport.AddressText.of(f.upstreamHost);
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

  private static String orUnknown(String v) {
    return v == null || v.isEmpty() ? Workload.UNKNOWN : v;
  }
}
