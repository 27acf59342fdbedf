package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A route: its match, its action, and its header mutations. Matched in configuration order. The decorator operation
 * (a span name for tracing) and the route metadata are kept as configured for the filters that read them.
 */
public record Route(
    String name,
    PathMatcher path,
    List<HeaderMatcher> headers,
    List<QueryParameterMatcher> queryParameters,
    boolean grpcOnly,
    RouteAction action,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders,
    java.util.Map<String, Object> perFilterConfig,
    @Nullable String decoratorOperation,
    io.envoyproxy.envoy.config.core.v3.Metadata metadata,
    RateLimitPolicy rateLimits,
    boolean includeVhRateLimits,
    int matchPerMillion,
    io.bowline.core.tracing.TracingConfig.@Nullable RouteTracing tracing) {

  public Route {
    headers = List.copyOf(headers);
    queryParameters = List.copyOf(queryParameters);
    perFilterConfig = java.util.Map.copyOf(perFilterConfig);
  }

  public boolean matches(String path, @Nullable String query, HttpHeaders requestHeaders) {
    return matches(path, query, requestHeaders, null);
  }

  /** The same, with the request's pseudo-headers for matchers on {@code :method}, {@code :path}, {@code :scheme}. */
  public boolean matches(String path, @Nullable String query, HttpHeaders requestHeaders,
      @Nullable RequestLine line) {
    if (!this.path.matches(path)) {
      return false;
    }
    if (grpcOnly) {
      String ct = requestHeaders.get("content-type");
      if (ct == null || !ct.startsWith("application/grpc")) {
        return false;
      }
    }
    for (int i = 0; i < headers.size(); i++) {
      if (!headers.get(i).matches(requestHeaders, line)) {
        return false;
      }
    }
    for (int i = 0; i < queryParameters.size(); i++) {
      if (!queryParameters.get(i).matches(query)) {
        return false;
      }
    }
    // runtime_fraction: a share of the requests, drawn once per request so that re-routing it agrees (Envoy)
    return matchPerMillion >= 1_000_000 || (line != null ? line.randomPerMillion()
        : java.util.concurrent.ThreadLocalRandom.current().nextInt(1_000_000)) < matchPerMillion;
  }
}
