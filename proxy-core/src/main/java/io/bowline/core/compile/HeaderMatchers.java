package io.bowline.core.compile;

import io.bowline.core.router.HeaderMatcher;
import io.bowline.xds.ConfigException;

/** Envoy's {@code config.route.v3.HeaderMatcher}, compiled the same way for routes and for filters. */
public final class HeaderMatchers {
  private HeaderMatchers() {}

  public static HeaderMatcher compile(io.envoyproxy.envoy.config.route.v3.HeaderMatcher h, String path)
      throws ConfigException {
    return RouteCompiler.header(h, path);
  }

  /** A StringMatcher applied to one header's value (e.g. CORS origins against {@code origin}). */
  public static HeaderMatcher ofValue(String headerName, io.envoyproxy.envoy.type.matcher.v3.StringMatcher s,
      String path) throws ConfigException {
    return RouteCompiler.stringMatch(headerName, s, path, false, false);
  }
}
