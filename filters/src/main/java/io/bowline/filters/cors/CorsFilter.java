package io.bowline.filters.cors;

import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.router.HeaderMatcher;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import org.jspecify.annotations.Nullable;

/**
 * One stream's CORS handling, as Envoy's filter does it: a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) from an allowed origin is answered by the proxy; an actual request from an
 * allowed origin gets the Access-Control-Allow-Origin (and credentials, expose) headers on its response. Requests
 * from other origins pass through unchanged.
 */
final class CorsFilter implements HttpFilter {
  private final String filterName;
  private final CorsFilterFactory.Stats stats;
  private final HttpFilterCallbacks callbacks;
  private CorsFilterFactory.@Nullable Policy policy;
  private @Nullable String origin;
  private boolean preflight;

  CorsFilter(String filterName, CorsFilterFactory.Stats stats, HttpFilterCallbacks callbacks) {
    this.filterName = filterName;
    this.stats = stats;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    if (!(callbacks.perRouteConfig(filterName) instanceof CorsFilterFactory.Policy p)) {
      return FilterStatus.CONTINUE;
    }
    HttpHeaders h = request.headers();
    String o = h.get("origin");
    if (o == null || o.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    boolean isPreflight = request.method().equals(HttpMethod.OPTIONS)
        && h.contains("access-control-request-method");
    if (!allowed(p, h)) {
      stats.originInvalid().inc();
      if (isPreflight && !p.forwardNotMatchingPreflights()) {
        callbacks.sendLocalReply(200, "", null, "-", "cors_preflight_not_matching");
        return FilterStatus.STOP_ITERATION;
      }
      return FilterStatus.CONTINUE;
    }
    stats.originValid().inc();
    policy = p;
    origin = o;
    if (isPreflight) {
      preflight = true;
      callbacks.sendLocalReply(200, "", null, "-", "cors_preflight"); // headers added in onResponseHeaders
      return FilterStatus.STOP_ITERATION;
    }
    return FilterStatus.CONTINUE;
  }

  private static boolean allowed(CorsFilterFactory.Policy p, HttpHeaders h) {
    for (HeaderMatcher m : p.origins()) {
      if (m.matches(h)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    CorsFilterFactory.Policy p = policy;
    if (p == null || origin == null) {
      return;
    }
    HttpHeaders h = response.headers();
    h.set("access-control-allow-origin", origin);
    if (p.allowCredentials()) {
      h.set("access-control-allow-credentials", "true");
    }
    if (preflight) {
      if (p.allowMethods() != null) {
        h.set("access-control-allow-methods", p.allowMethods());
      }
      if (p.allowHeaders() != null) {
        h.set("access-control-allow-headers", p.allowHeaders());
      }
      if (p.maxAge() != null) {
        h.set("access-control-max-age", p.maxAge());
      }
      if (p.allowPrivateNetwork()) {
        h.set("access-control-allow-private-network", "true");
      }
    } else if (p.exposeHeaders() != null) {
      h.set("access-control-expose-headers", p.exposeHeaders());
    }
  }
}
