package io.bowline.core.accesslog;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.Map;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * What one finished HTTP stream or TCP connection was, as the access log, the reporting filters and the tracer see
 * it. Filled on its event loop when it ends; filters, tracers and access-log formats read it there, and nothing keeps
 * it after: an access log queues the formatted line's bytes, never the facts.
 */
public final class AccessLogFacts {
  /** Which kind of access log entry this is (Envoy's {@code %ACCESS_LOG_TYPE%}). */
  public enum Type {
    HCM_DOWNSTREAM_END("DownstreamEnd"), TCP_CONNECTION_END("TcpConnectionEnd"), LISTENER_CONNECTION("NotSet");

    private final String envoyName;

    Type(String envoyName) {
      this.envoyName = envoyName;
    }

    /** Envoy's {@code AccessLogType} name. */
    public String envoyName() {
      return envoyName;
    }
  }

  public Type type = Type.HCM_DOWNSTREAM_END;
  public long startEpochMillis;
  /** Nanoseconds from the start: the whole exchange, the last request byte, the first response byte; -1 unknown. */
  public long durationNanos;
  public long requestDoneNanos = -1;
  public long firstResponseNanos = -1;
  public @Nullable HttpHeaders requestHeaders;
  /**
   * The request headers the connection manager's logs read, as they were when the request was last forwarded
   * (null: never forwarded, so they are looked up in {@link #requestHeaders}).
   */
  public @Nullable LoggedRequestHeaders loggedRequestHeaders;
  public @Nullable CharSequence @Nullable [] loggedRequestValues;
  public @Nullable HttpHeaders responseHeaders;
  public @Nullable HttpHeaders responseTrailers;
  /** Pseudo-header values of the request (HTTP/1 has them on the request line, HTTP/2 as headers). */
  public @Nullable String method;
  public @Nullable String path;
  public @Nullable String scheme;
  public @Nullable String protocol;
  public int responseCode;
  public String responseFlags = "-";
  public @Nullable String responseCodeDetails;
  public @Nullable String connectionTerminationDetails;
  public long bytesReceived;
  public long bytesSent;
  /** gRPC messages each way; counted only for gRPC requests on connection managers with reporting filters. */
  public long requestMessages;
  public long responseMessages;
  public @Nullable String upstreamCluster;
  /**
   * The upstream cluster's config as the stream used it: its identity changes when CDS updates the cluster, so
   * reporting filters keep what they read of a cluster without looking it up by name (null: not known).
   */
  public @Nullable Object upstreamClusterGeneration;
  public @Nullable InetSocketAddress upstreamHost;
  public @Nullable InetSocketAddress upstreamLocal;
  /** The upstream connection's TLS session, or null (plaintext, no upstream). */
  public @Nullable SSLSession upstreamTls;
  /** The upstream endpoint's {@code metadata.filter_metadata} (Istio's {@code istio.workload}), or null. */
  public java.util.@Nullable Map<String, com.google.protobuf.Struct> upstreamHostMetadata;
  public @Nullable String upstreamTransportFailureReason;
  public @Nullable String upstreamProtocol;
  public int attemptCount;
  /**
   * The addresses above as Envoy prints them, where their owners (the host, the upstream and downstream
   * connections) keep them formatted: a keep-alive connection's requests then format nothing, and the line does not
   * chase each address object. Null: formatted from the address when a log asks.
   */
  public @Nullable String upstreamHostText;
  public @Nullable String upstreamLocalText;
  public @Nullable String downstreamRemoteText;
  public @Nullable String downstreamDirectRemoteText;
  public @Nullable String downstreamLocalText;
  /** The gRPC status of a gRPC request (from trailers, headers, or mapped from the HTTP status); -1 otherwise. */
  public int grpcStatus = -1;
  public @Nullable InetSocketAddress downstreamRemote;
  public @Nullable InetSocketAddress downstreamDirectRemote;
  public @Nullable InetSocketAddress downstreamLocal;
  public @Nullable String requestedServerName;
  public @Nullable SSLSession tls;
  /** A TCP connection's peers' node metadata, as Istio's TCP metadata exchange learned it (null: not known). */
  public com.google.protobuf.@Nullable Struct downstreamPeerMetadata;
  public com.google.protobuf.@Nullable Struct upstreamPeerMetadata;
  public @Nullable String routeName;
  public @Nullable String virtualClusterName;
  public long connectionId;
  public boolean healthCheck;
  public @Nullable Map<String, String> filterState;
  /** The request's trace, when the connection manager traces ({@code %TRACE_ID%}, {@code traceable_filter}). */
  public io.bowline.core.tracing.@Nullable RequestTrace trace;
  /** The stream's dynamic metadata by namespace (filters' results: jwt_authn's payload, RBAC's shadow outcome). */
  public @Nullable Map<String, com.google.protobuf.Struct> dynamicMetadata;
  /** The request header's value (values of a repeated header joined with ','), or null. */
  public @Nullable String requestHeader(CharSequence name) {
    return header(requestHeaders, name);
  }

  /**
   * The request header's first value, or null: for headers a request carries once (Host), and what
   * {@code %REQ(...)%} prints. Taken from the capture made when the request was forwarded where it has the name,
   * as the header's own value (a String, or a codec's bytes): writers copy it as it is, others make a String.
   */
  public @Nullable CharSequence firstRequestHeader(RequestHeaderName name) {
    @Nullable CharSequence[] logged = loggedRequestValues;
    if (logged != null && loggedRequestHeaders != null) {
      int i = name.indexIn(loggedRequestHeaders);
      if (i >= 0) {
        return logged[i];
      }
    }
    return firstValue(requestHeaders, name.name());
  }

  /**
   * The header's first value, or null: what Envoy's {@code %REQ%}, {@code %RESP%} and {@code %TRAILER%} print of a
   * repeated header (envoyproxy/envoy#13454 leaves logging them all for later).
   */
  static @Nullable String firstValue(@Nullable HttpHeaders h, CharSequence name) {
    return h == null ? null : h.get(name); // Netty's get answers the first value added
  }

  static @Nullable String header(@Nullable HttpHeaders h, CharSequence name) {
    if (h == null) {
      return null;
    }
    java.util.Iterator<String> values = h.valueStringIterator(name);
    if (!values.hasNext()) {
      return null;
    }
    String first = values.next();
    if (!values.hasNext()) {
      return first; // the common case: one value, one walk of the bucket
    }
    return String.join(",", h.getAll(name)); // in insertion order, which the iterator does not keep
  }
}
