package io.bowline.core.accesslog;

import static io.bowline.core.tls.Certificates.local;
import static io.bowline.core.tls.Certificates.peer;

import io.bowline.core.accesslog.FieldOperators.NumberField;
import io.bowline.core.accesslog.FieldOperators.TextField;
import io.bowline.core.tls.Certificates;
import io.bowline.core.transport.AddressText;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's access-log command operators by name. Each is resolved once, when its format is compiled; an operator
 * Envoy does not know, or that bowline cannot produce, is refused there with Envoy's own wording.
 */
final class CommandOperators {
  private CommandOperators() {}

  /**
   * Resolved when the first format that names it compiles (off the event loops, which format lines): looking up the
   * host name can block, and most formats never ask for it.
   */
  private static final class Host {
    static final String NAME = hostname();
  }

  /**
   * The operator {@code name} with its parenthesised argument ({@code null} when absent) and its {@code :Z} length
   * limit ({@code -1} when absent).
   */
  static Operator of(String name, @Nullable String arg, int maxLength, Set<AsciiString> requestHeaders)
      throws IllegalArgumentException {
    Operator op = resolve(name, arg, requestHeaders);
    if (maxLength < 0) {
      return op;
    }
    return f -> {
      Object v = op.value(f);
      return v instanceof String s && s.length() > maxLength ? s.substring(0, maxLength) : v;
    };
  }

  private static Operator resolve(String name, @Nullable String arg, Set<AsciiString> requestHeaders) {
    switch (name) {
      case "REQ", "RESP", "TRAILER", "REQ_WITHOUT_QUERY" -> {
        return headerOperator(name, required(name, arg), requestHeaders);
      }
      case "STREAM_ID" -> {
        requestHeaders.add(REQUEST_ID);
        return new FieldOperators.RequestHeader(REQUEST_ID, null);
      }
      case "START_TIME" -> {
        StartTimeFormat fmt = StartTimeFormat.of(arg);
        return f -> fmt.format(f.startEpochMillis);
      }
      case "ENVIRONMENT" -> {
        String value = System.getenv(required(name, arg));
        return f -> value;
      }
      case "FILTER_STATE" -> {
        String key = required(name, arg);
        int colon = key.indexOf(':');
        String k = colon < 0 ? key : key.substring(0, colon);
        return f -> f.filterState == null ? null : f.filterState.get(k);
      }
      case "DYNAMIC_METADATA" -> {
        String[] keys = required(name, arg).split(":", -1);
        io.bowline.core.filter.MetadataPath at = new io.bowline.core.filter.MetadataPath(keys[0],
            List.of(keys).subList(1, keys.length));
        return f -> at.render(f.dynamicMetadata);
      }
      case "CLUSTER_METADATA", "UPSTREAM_METADATA", "METADATA", "UPSTREAM_FILTER_STATE" -> {
        required(name, arg);
        return f -> null; // cluster and host metadata are not kept per stream: Envoy prints "-" when absent too
      }
      case "GRPC_STATUS" -> {
        String form = arg == null ? "CAMEL_STRING" : arg;
        if (!form.equals("CAMEL_STRING") && !form.equals("SNAKE_STRING") && !form.equals("NUMBER")) {
          throw new IllegalArgumentException("GRPC_STATUS: unknown format " + form
              + " (CAMEL_STRING, SNAKE_STRING or NUMBER)");
        }
        return f -> f.grpcStatus < 0 ? null : form.equals("NUMBER") ? (Object) (long) f.grpcStatus
            : GrpcStatusNames.name(f.grpcStatus, form.equals("SNAKE_STRING"));
      }
      default -> {
        if (arg != null) {
          throw new IllegalArgumentException("Not supported field in StreamInfo: " + name + "(" + arg + ")");
        }
        Operator op = simple(name);
        if (op == null) {
          throw new IllegalArgumentException("Not supported field in StreamInfo: " + name);
        }
        return op;
      }
    }
  }

  private static String required(String name, @Nullable String arg) {
    if (arg == null || arg.isEmpty()) {
      throw new IllegalArgumentException(name + " needs an argument in parentheses");
    }
    return arg;
  }

  private static @Nullable Operator simple(String name) {
    return switch (name) {
      case "PROTOCOL" -> TextField.PROTOCOL;
      case "UPSTREAM_PROTOCOL" -> TextField.UPSTREAM_PROTOCOL;
      case "RESPONSE_CODE" -> NumberField.RESPONSE_CODE;
      case "RESPONSE_FLAGS" -> TextField.RESPONSE_FLAGS;
      case "RESPONSE_FLAGS_LONG" -> f -> ResponseFlagNames.longForm(f.responseFlags);
      case "RESPONSE_CODE_DETAILS" -> TextField.RESPONSE_CODE_DETAILS;
      case "CONNECTION_TERMINATION_DETAILS" -> TextField.CONNECTION_TERMINATION_DETAILS;
      case "BYTES_RECEIVED" -> NumberField.BYTES_RECEIVED;
      case "BYTES_SENT" -> NumberField.BYTES_SENT;
      case "DURATION" -> NumberField.DURATION;
      case "REQUEST_DURATION" -> NumberField.REQUEST_DURATION;
      case "RESPONSE_DURATION" -> NumberField.RESPONSE_DURATION;
      case "RESPONSE_TX_DURATION" -> NumberField.RESPONSE_TX_DURATION;
      case "UPSTREAM_HOST", "UPSTREAM_REMOTE_ADDRESS" -> TextField.UPSTREAM_HOST;
      case "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" -> f -> ip(f.upstreamHost);
      case "UPSTREAM_REMOTE_PORT" -> (NumberOperator) f -> port(f.upstreamHost);
      case "UPSTREAM_CLUSTER" -> TextField.UPSTREAM_CLUSTER;
      case "UPSTREAM_LOCAL_ADDRESS" -> TextField.UPSTREAM_LOCAL_ADDRESS;
      case "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> f -> ip(f.upstreamLocal);
      case "UPSTREAM_LOCAL_PORT" -> (NumberOperator) f -> port(f.upstreamLocal);
      case "UPSTREAM_TRANSPORT_FAILURE_REASON" -> TextField.UPSTREAM_TRANSPORT_FAILURE_REASON;
      case "UPSTREAM_REQUEST_ATTEMPT_COUNT" -> NumberField.UPSTREAM_REQUEST_ATTEMPT_COUNT;
      case "DOWNSTREAM_REMOTE_ADDRESS" -> TextField.DOWNSTREAM_REMOTE_ADDRESS;
      case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" -> f -> ip(f.downstreamRemote);
      case "DOWNSTREAM_REMOTE_PORT" -> (NumberOperator) f -> port(f.downstreamRemote);
      case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" -> TextField.DOWNSTREAM_DIRECT_REMOTE_ADDRESS;
      case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT" -> f -> ip(f.downstreamDirectRemote);
      case "DOWNSTREAM_DIRECT_REMOTE_PORT" -> (NumberOperator) f -> port(f.downstreamDirectRemote);
      case "DOWNSTREAM_LOCAL_ADDRESS" -> TextField.DOWNSTREAM_LOCAL_ADDRESS;
      case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> f -> ip(f.downstreamLocal);
      case "DOWNSTREAM_LOCAL_PORT" -> (NumberOperator) f -> port(f.downstreamLocal);
      case "REQUESTED_SERVER_NAME" -> TextField.REQUESTED_SERVER_NAME;
      case "ROUTE_NAME" -> TextField.ROUTE_NAME;
      case "VIRTUAL_CLUSTER_NAME" -> TextField.VIRTUAL_CLUSTER_NAME;
      case "HOSTNAME" -> {
        String host = Host.NAME;
        yield f -> host;
      }
      case "CONNECTION_ID" -> NumberField.CONNECTION_ID;
      case "UNIQUE_ID" -> f -> io.bowline.core.filter.RequestIds.uuid();
      case "ACCESS_LOG_TYPE" -> f -> f.type.envoyName();
      case "GRPC_STATUS_NUMBER" -> (NumberOperator) f -> f.grpcStatus < 0 ? NumberOperator.NONE : f.grpcStatus;
      case "TRACE_ID" -> f -> f.trace == null ? null : f.trace.traceId();
      default -> name.startsWith("DOWNSTREAM_") ? tls(name.substring(11), f -> f.tls, true)
          : name.startsWith("UPSTREAM_") ? tls(name.substring(9), f -> f.upstreamTls, false) : null;
    };
  }

  /**
   * The TLS operators, the same for either side's session ({@code DOWNSTREAM_}/{@code UPSTREAM_} + {@code what});
   * the serial and fingerprint exist downstream only, as in Envoy.
   */
  private static @Nullable Operator tls(String what,
      java.util.function.Function<AccessLogFacts, @Nullable SSLSession> side, boolean downstream) {
    return switch (what) {
      case "PEER_URI_SAN" -> f -> ofSession(side.apply(f), 0, s -> sans(peer(s), Certificates.URI));
      case "PEER_DNS_SAN" -> f -> ofSession(side.apply(f), 1, s -> sans(peer(s), Certificates.DNS));
      case "LOCAL_URI_SAN" -> f -> ofSession(side.apply(f), 2, s -> sans(local(s), Certificates.URI));
      case "LOCAL_DNS_SAN" -> f -> ofSession(side.apply(f), 3, s -> sans(local(s), Certificates.DNS));
      case "PEER_SUBJECT" -> f -> ofSession(side.apply(f), 4, s -> peer(s) == null ? null
          : peer(s).getSubjectX500Principal().getName());
      case "PEER_ISSUER" -> f -> ofSession(side.apply(f), 5, s -> peer(s) == null ? null
          : peer(s).getIssuerX500Principal().getName());
      case "LOCAL_SUBJECT" -> f -> ofSession(side.apply(f), 6, s -> local(s) == null ? null
          : local(s).getSubjectX500Principal().getName());
      case "PEER_SERIAL" -> !downstream ? null : f -> ofSession(side.apply(f), 7, s -> peer(s) == null ? null
          : peer(s).getSerialNumber().toString(16));
      case "PEER_FINGERPRINT_256" -> !downstream ? null
          : f -> ofSession(side.apply(f), 8, s -> Certificates.sha256Hex(peer(s)));
      case "TLS_VERSION" -> f -> {
        SSLSession s = side.apply(f);
        return s == null ? null : s.getProtocol();
      };
      case "TLS_CIPHER" -> f -> {
        SSLSession s = side.apply(f);
        return s == null ? null : s.getCipherSuite();
      };
      case "TLS_SESSION_ID" -> f -> {
        SSLSession s = side.apply(f);
        return s == null || s.getId().length == 0 ? null : HexFormat.of().formatHex(s.getId());
      };
      default -> null;
    };
  }

  /** A header operator; the request headers it reads are added to {@code requestHeaders}. */
  private static Operator headerOperator(String name, String arg, Set<AsciiString> requestHeaders) {
    int q = arg.indexOf('?');
    String mainName = (q < 0 ? arg : arg.substring(0, q)).toLowerCase(java.util.Locale.ROOT);
    String altName = q < 0 ? null : arg.substring(q + 1).toLowerCase(java.util.Locale.ROOT);
    if (mainName.isEmpty() || altName != null && altName.isEmpty()) {
      throw new IllegalArgumentException(name + "(" + arg + "): empty header name");
    }
    // AsciiString keeps its (case-insensitive) hash: a header lookup then hashes nothing
    AsciiString main = AsciiString.cached(mainName);
    AsciiString alt = altName == null ? null : AsciiString.cached(altName);
    return switch (name) {
      case "RESP" -> f -> first(AccessLogFacts.firstValue(f.responseHeaders, main),
          alt == null ? null : AccessLogFacts.firstValue(f.responseHeaders, alt));
      case "TRAILER" -> f -> first(AccessLogFacts.firstValue(f.responseTrailers, main),
          alt == null ? null : AccessLogFacts.firstValue(f.responseTrailers, alt));
      case "REQ_WITHOUT_QUERY" -> {
        Operator req = requestOperator(main, alt, requestHeaders);
        yield f -> {
          String v = (String) req.value(f);
          int qs = v == null ? -1 : v.indexOf('?');
          return qs < 0 ? v : v.substring(0, qs);
        };
      }
      default -> requestOperator(main, alt, requestHeaders);
    };
  }

  /** {@code %REQ(main?alt)%}: the first request header present, each lookup chosen once here. */
  private static Operator requestOperator(AsciiString main, @Nullable AsciiString alt,
      Set<AsciiString> requestHeaders) {
    Operator m = request(main, requestHeaders);
    if (alt == null) {
      return m;
    }
    Operator a = request(alt, requestHeaders);
    return f -> {
      Object v = m.value(f);
      return v != null ? v : a.value(f);
    };
  }

  private static @Nullable String first(@Nullable String a, @Nullable String b) {
    return a != null ? a : b;
  }

  private static final AsciiString HOST = io.netty.handler.codec.http.HttpHeaderNames.HOST;
  private static final AsciiString REQUEST_ID = AsciiString.cached("x-request-id");

  /**
   * A request header; HTTP/1 requests carry the pseudo-headers on the request line and in Host. The headers read
   * are added to {@code requestHeaders}.
   */
  private static Operator request(AsciiString name, Set<AsciiString> requestHeaders) {
    return switch (name.toString()) {
      case ":method" -> TextField.METHOD;
      case ":path" -> TextField.PATH;
      case ":scheme" -> TextField.SCHEME;
      case ":authority" -> {
        requestHeaders.add(name);
        requestHeaders.add(HOST);
        yield new FieldOperators.RequestHeader(name, HOST);
      }
      default -> {
        requestHeaders.add(name);
        yield new FieldOperators.RequestHeader(name, null);
      }
    };
  }

  private static @Nullable String ip(@Nullable InetSocketAddress a) {
    return a == null ? null : AddressText.ip(a);
  }

  private static long port(@Nullable InetSocketAddress a) {
    return a == null ? NumberOperator.NONE : a.getPort();
  }

  /** Not yet worked out, in {@link #BY_SESSION}'s slots (null is an answer: the certificate has no such name). */
  private static final String UNREAD = new String("unread");
  private static final int SESSION_SLOTS = 9;

  /**
   * Each formatting thread's certificate-derived values by TLS session (slots: peer URI and DNS SANs, local URI and
   * DNS SANs, peer subject, issuer, local subject, peer serial, peer SHA-256): parsing a certificate costs
   * microseconds, and a connection's requests all ask the same session. Weakly held: a closed connection's session
   * is not kept for its names.
   */
  private static final io.netty.util.concurrent.FastThreadLocal<java.util.WeakHashMap<SSLSession, String[]>>
      BY_SESSION = new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected java.util.WeakHashMap<SSLSession, String[]> initialValue() {
          return new java.util.WeakHashMap<>();
        }
      };

  private static @Nullable String ofSession(@Nullable SSLSession s, int slot,
      java.util.function.Function<SSLSession, @Nullable String> read) {
    if (s == null) {
      return null;
    }
    var cache = BY_SESSION.get();
    String[] slots = cache.get(s);
    if (slots == null) {
      if (cache.size() >= 4096) {
        cache.clear();
      }
      slots = new String[SESSION_SLOTS];
      java.util.Arrays.fill(slots, UNREAD);
      cache.put(s, slots);
    }
    String v = slots[slot];
    if (v == UNREAD) {
      v = read.apply(s);
      slots[slot] = v;
    }
    return v;
  }

  /** The certificate's subject alternative names of one type, joined with ',' as Envoy prints them. */
  private static @Nullable String sans(@Nullable X509Certificate c, int type) {
    List<String> all = Certificates.sans(c, type);
    return all.isEmpty() ? null : String.join(",", all);
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      String h = System.getenv("HOSTNAME");
      return h != null ? h : "localhost";
    }
  }
}
