package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * How long a stream may live, as Envoy's connection manager decides it each time a route is chosen: the route's
 * {@code max_stream_duration}, or — when the route sets {@code grpc_timeout_header_max} and the request carries a valid
 * {@code grpc-timeout} — that header's value capped and less the offset, else the connection manager's
 * {@code common_http_protocol_options.max_stream_duration}.
 */
public final class StreamDurations {
  /** gRPC's deadline header, read only by routes whose settings use it. */
  public static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");

  private StreamDurations() {}

  /** The stream's duration limit in milliseconds from its start, or -1 for none. */
  public static long limitMs(@Nullable Route route, long hcmMaxMs, HttpHeaders requestHeaders) {
    RouteAction.StreamDuration d = route != null && route.action() instanceof RouteAction.Forward f
        ? f.streamDuration() : null;
    String grpcTimeout = d == null || d.grpcHeaderMaxMs() < 0 ? null : requestHeaders.get(GRPC_TIMEOUT);
    long header = grpcTimeout == null ? -1 : grpcTimeoutMillis(grpcTimeout);
    if (header < 0) {
      if (d != null && d.maxMs() >= 0) {
        return d.maxMs() == 0 ? -1 : d.maxMs(); // an explicit 0 turns the connection manager's limit off
      }
      return hcmMaxMs > 0 ? hcmMaxMs : -1;
    }
    long t = header;
    if (d.grpcHeaderMaxMs() > 0 && t > d.grpcHeaderMaxMs()) {
      t = d.grpcHeaderMaxMs();
    }
    if (t != 0 && d.grpcHeaderOffsetMs() > 0) {
      t = d.grpcHeaderOffsetMs() < t ? t - d.grpcHeaderOffsetMs() : 0;
    }
    return t;
  }

  /**
   * A {@code grpc-timeout} value (1 to 8 digits and a unit: H, M, S, m, u, n) in milliseconds, sub-millisecond values
   * rounded up; -1 when malformed, which leaves the header without effect.
   */
  public static long grpcTimeoutMillis(String v) {
    int n = v.length();
    if (n < 2 || n > 9) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < n - 1; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return switch (v.charAt(n - 1)) {
      case 'H' -> value * 3_600_000;
      case 'M' -> value * 60_000;
      case 'S' -> value * 1000;
      case 'm' -> value;
      case 'u' -> (value + 999) / 1000;
      case 'n' -> (value + 999_999) / 1_000_000;
      default -> -1;
    };
  }
}
