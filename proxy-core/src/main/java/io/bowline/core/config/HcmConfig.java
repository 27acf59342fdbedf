package io.bowline.core.config;

import io.bowline.core.filter.HttpFilterProvider;
import java.util.List;

/**
 * {@code envoy.filters.network.http_connection_manager}, compiled. Timeouts are in milliseconds; 0 means disabled,
 * as in Envoy.
 */
public record HcmConfig(
    String statPrefix,
    CodecType codecType,
    RouteSource routes,
    List<HttpFilterProvider> httpFilters,
    boolean useRemoteAddress,
    int xffNumTrustedHops,
    RequestIdConfig requestId,
    io.netty.util.AsciiString serverName,
    boolean websocketEnabled,
    long idleTimeoutMs,
    int maxHeadersCount,
    int maxRequestHeadersBytes,
    long streamIdleTimeoutMs,
    long requestTimeoutMs,
    long requestHeadersTimeoutMs,
    long maxConnectionDurationMs,
    long maxStreamDurationMs,
    Http2Settings http2,
    PathPolicy pathPolicy,
    boolean acceptHttp10,
    String defaultHostForHttp10,
    /** {@code http_protocol_options.enable_trailers}: HTTP/1.1 trailers read and written; dropped when false. */
    boolean http1Trailers,
    List<io.bowline.core.listener.CidrRange> internalAddresses,
    List<io.bowline.core.accesslog.AccessLogger> accessLogs,
    HcmStats stats,
    boolean filtersLog,
    io.bowline.core.accesslog.LoggedRequestHeaders loggedRequestHeaders,
    io.bowline.core.tracing.@org.jspecify.annotations.Nullable TracingConfig tracing,
    io.bowline.core.http.ClientCertHeader.Config clientCert,
    long delayedCloseTimeoutMs) implements NetworkFilter {

  public HcmConfig {
    httpFilters = List.copyOf(httpFilters);
    accessLogs = List.copyOf(accessLogs);
  }

  @Override
  public io.bowline.core.transport.ConnectionBytes connectionBytes() {
    return stats.bytes;
  }

  /** The HCM's codec_type. */
  public enum CodecType { AUTO, HTTP1, HTTP2 }

  /** {@code http2_protocol_options} that bowline applies. */
  public record Http2Settings(long maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize) {}

  /** How the request path is normalised before routing. */
  public record PathPolicy(boolean normalize, boolean mergeSlashes, EscapedSlashes escapedSlashes) {}

  /** {@code path_with_escaped_slashes_action}. */
  public enum EscapedSlashes { KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD }
}
