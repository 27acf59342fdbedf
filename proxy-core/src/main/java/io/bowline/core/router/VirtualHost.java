package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A virtual host: the routes for a set of domains. */
public record VirtualHost(String name, List<String> domains, List<Route> routes, HeaderMutation requestHeaders,
    HeaderMutation responseHeaders, RequireTls requireTls, List<VirtualCluster> virtualClusters,
    @Nullable VirtualCluster otherVirtualCluster, RateLimitPolicy rateLimits) {

  public VirtualHost(String name, List<String> domains, List<Route> routes, HeaderMutation requestHeaders,
      HeaderMutation responseHeaders, RequireTls requireTls) {
    this(name, domains, routes, requestHeaders, responseHeaders, requireTls, List.of(), null, RateLimitPolicy.NONE);
  }

  /**
   * A {@code virtual_clusters} entry: requests matching all its header matchers are counted under its name, in
   * {@code vhost.<virtual host>.vcluster.<name>.*} ({@code stats} null where none are kept, e.g. in tools).
   */
  public record VirtualCluster(String name, List<HeaderMatcher> headers, @Nullable Stats stats) {
    public VirtualCluster {
      headers = List.copyOf(headers);
    }
  }

  /** A virtual cluster's stats: {@code upstream_rq_total}, by code and class, and {@code upstream_rq_time}. */
  public record Stats(io.bowline.core.stats.Counter rqTotal, io.bowline.core.stats.ResponseCodeCounters codes,
      io.bowline.core.stats.Histogram rqTime) {
    public static Stats of(io.bowline.core.stats.Stats.Scope s) {
      return new Stats(s.counter("upstream_rq_total"), new io.bowline.core.stats.ResponseCodeCounters(s,
          "upstream_rq_"), s.histogram("upstream_rq_time"));
    }
  }

  /** {@code require_tls}: which plaintext requests are redirected to https. */
  public enum RequireTls { NONE, EXTERNAL_ONLY, ALL }

  public VirtualHost {
    domains = List.copyOf(domains);
    routes = List.copyOf(routes);
    virtualClusters = List.copyOf(virtualClusters);
  }

  public @Nullable Route route(String path, @Nullable String query, HttpHeaders headers) {
    return route(path, query, headers, null);
  }

  /** The first route that matches; {@code line} answers matchers on pseudo-headers. */
  public @Nullable Route route(String path, @Nullable String query, HttpHeaders headers, @Nullable RequestLine line) {
    for (int i = 0; i < routes.size(); i++) {
      Route r = routes.get(i);
      if (r.matches(path, query, headers, line)) {
        return r;
      }
    }
    return null;
  }

  /**
   * The virtual cluster a request belongs to: the first whose matchers all hold, else Envoy's catch-all "other";
   * null when the virtual host defines none.
   */
  public @Nullable VirtualCluster virtualCluster(HttpHeaders headers, RequestLine line) {
    if (virtualClusters.isEmpty()) {
      return null;
    }
    outer:
    for (int i = 0; i < virtualClusters.size(); i++) {
      VirtualCluster vc = virtualClusters.get(i);
      for (int j = 0; j < vc.headers().size(); j++) {
        if (!vc.headers().get(j).matches(headers, line)) {
          continue outer;
        }
      }
      return vc;
    }
    return otherVirtualCluster;
  }
}
