package io.bowline.core.router;

import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** What a matched route does. */
public sealed interface RouteAction {

  /** Forward to a cluster (or one of weighted clusters), with rewrites and a timeout. */
  /** How a forwarding route sets the upstream Host. */
  sealed interface HostRewrite {
    @Nullable String host(io.netty.handler.codec.http.HttpHeaders headers, String path);
  }

  /** {@code host_rewrite_literal}. */
  record LiteralHost(String host) implements HostRewrite {
    @Override
    public String host(io.netty.handler.codec.http.HttpHeaders headers, String path) {
      return host;
    }
  }

  /** {@code host_rewrite_header}: the header's value, when the request has it. */
  record HeaderHost(String header) implements HostRewrite {
    @Override
    public @Nullable String host(io.netty.handler.codec.http.HttpHeaders headers, String path) {
      String v = headers.get(header);
      return v == null || v.isEmpty() ? null : v;
    }
  }

  /** {@code host_rewrite_path_regex}: the path (without its query) with every match substituted. */
  record PathRegexHost(Pattern pattern, String substitution) implements HostRewrite {
    @Override
    public String host(io.netty.handler.codec.http.HttpHeaders headers, String path) {
      return pattern.matcher(path).replaceAll(substitution);
    }
  }

  record Forward(
      List<WeightedCluster> clusters,
      int totalWeight,
      @Nullable String prefixRewrite,
      @Nullable Pattern regexRewrite,
      @Nullable String regexSubstitution,
      UriTemplate.@Nullable Rewrite templateRewrite,
      @Nullable HostRewrite hostRewrite,
      boolean autoHostRewrite,
      long timeoutMs,
      boolean upgradesAllowed,
      io.netty.util.AsciiString timeoutText,
      @Nullable RetryPolicy retryPolicy,
      List<HashPolicy> hashPolicies,
      List<Mirror> mirrors,
      long idleTimeoutMs,
      @Nullable StreamDuration streamDuration,
      long maxGrpcTimeoutMs,
      long grpcTimeoutOffsetMs,
      @Nullable String clusterHeader,
      int clusterNotFoundStatus) implements RouteAction {

    public Forward {
      clusters = List.copyOf(clusters);
      hashPolicies = List.copyOf(hashPolicies);
      mirrors = List.copyOf(mirrors);
    }

    /**
     * The Host the request goes upstream with, or null to keep it: {@code host_rewrite_literal}, the value of the
     * {@code host_rewrite_header} header (kept when absent), or {@code host_rewrite_path_regex} applied to the path.
     */
    public @Nullable String rewrittenHost(io.netty.handler.codec.http.HttpHeaders headers, String path) {
      return hostRewrite == null ? null : hostRewrite.host(headers, path);
    }

    /** The route timeout as the x-envoy-expected-rq-timeout-ms value, formatted once. */
    public io.netty.util.AsciiString timeoutHeaderValue() {
      return timeoutText;
    }

    /**
     * The route's timeout for this request: for a gRPC request on a route with the (deprecated) max_grpc_timeout, the
     * {@code grpc-timeout} header less grpc_timeout_offset (unless that leaves nothing), capped by max_grpc_timeout
     * (0: uncapped; no header and no cap: none); otherwise {@code timeout}.
     */
    public long timeoutMsFor(boolean grpc, io.netty.handler.codec.http.HttpHeaders requestHeaders) {
      if (!grpc || maxGrpcTimeoutMs < 0) {
        return timeoutMs;
      }
      String grpcTimeout = requestHeaders.get(StreamDurations.GRPC_TIMEOUT);
      long t = grpcTimeout == null ? 0 : Math.max(0, StreamDurations.grpcTimeoutMillis(grpcTimeout));
      if (grpcTimeoutOffsetMs > 0 && grpcTimeoutOffsetMs < t) {
        t -= grpcTimeoutOffsetMs;
      }
      if (maxGrpcTimeoutMs > 0 && (t == 0 || t > maxGrpcTimeoutMs)) {
        t = maxGrpcTimeoutMs;
      }
      return t;
    }

    public String pickCluster(int draw) {
      return pick(draw).name();
    }

    /** The weighted cluster a draw in [0, totalWeight) lands on (the only one for a plain cluster action). */
    public WeightedCluster pick(int draw) {
      if (clusters.size() == 1) {
        return clusters.get(0);
      }
      int acc = 0;
      for (WeightedCluster c : clusters) {
        acc += c.weight();
        if (draw < acc) {
          return c;
        }
      }
      return clusters.get(clusters.size() - 1);
    }
  }

  /**
   * {@code max_stream_duration}: the stream's lifetime cap ({@code maxMs}, -1 when unset so the connection manager's
   * applies, 0 for none) and how a request's {@code grpc-timeout} header replaces it ({@code grpcHeaderMaxMs}: -1 when
   * unset, so the header is ignored; 0 for the header's value uncapped), less {@code grpcHeaderOffsetMs}.
   */
  public record StreamDuration(long maxMs, long grpcHeaderMaxMs, long grpcHeaderOffsetMs) {}

  /** A request_mirror_policies entry: the shadow cluster, the share of requests mirrored (per million). */
  record Mirror(String cluster, int perMillion, boolean appendShadowSuffix) {}

  /**
   * A cluster with its weight in a weighted_clusters action, and the header changes made when it is chosen (applied
   * before the route's, the virtual host's and the route configuration's, as Envoy orders them).
   */
  record WeightedCluster(String name, int weight, HeaderMutation requestHeaders, HeaderMutation responseHeaders) {
    public WeightedCluster(String name, int weight) {
      this(name, weight, HeaderMutation.NONE, HeaderMutation.NONE);
    }
  }

  /** A redirect answered by the proxy. */
  record Redirect(
      @Nullable String scheme,
      @Nullable String host,
      int port,
      @Nullable String path,
      @Nullable String prefixRewrite,
      @Nullable Pattern regexRewrite,
      @Nullable String regexSubstitution,
      int status,
      boolean stripQuery) implements RouteAction {}

  /** A response answered by the proxy. */
  record DirectResponse(int status, byte @Nullable [] body) implements RouteAction {}
}
