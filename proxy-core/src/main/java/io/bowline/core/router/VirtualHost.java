package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A virtual host: the routes for a set of domains. */
public record VirtualHost(String name, List<String> domains, List<Route> routes, HeaderMutation requestHeaders,
    HeaderMutation responseHeaders, RequireTls requireTls) {

  /** {@code require_tls}: which plaintext requests are redirected to https. */
  public enum RequireTls { NONE, EXTERNAL_ONLY, ALL }

  public VirtualHost {
    domains = List.copyOf(domains);
    routes = List.copyOf(routes);
  }

  public @Nullable Route route(String path, @Nullable String query, HttpHeaders headers) {
    for (int i = 0; i < routes.size(); i++) {
      Route r = routes.get(i);
      if (r.matches(path, query, headers)) {
        return r;
      }
    }
    return null;
  }
}
