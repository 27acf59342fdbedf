package io.bowline.filters.cors;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.compile.HeaderMatchers;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.stats.Counter;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.cors}: the connection manager carries the (empty) filter, and routes or virtual hosts
 * carry their {@code CorsPolicy} in {@code typed_per_filter_config}. Without a policy the filter does nothing.
 */
public final class CorsFilterFactory implements HttpFilterFactory<Cors> {
  @Override
  public String name() {
    return "envoy.filters.http.cors";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.cors.v3.Cors";
  }

  @Override
  public Class<Cors> configType() {
    return Cors.class;
  }

  @Override
  public Cors defaultConfig() {
    return Cors.getDefaultInstance();
  }

  /** A route's CORS policy, compiled: origins as matchers on the {@code origin} header, header values preformatted. */
  record Policy(List<HeaderMatcher> origins, @Nullable String allowMethods, @Nullable String allowHeaders,
      @Nullable String exposeHeaders, @Nullable String maxAge, boolean allowCredentials, boolean allowPrivateNetwork,
      boolean forwardNotMatchingPreflights) {}

  /** cors.<stat_prefix>.origin_valid / origin_invalid. */
  record Stats(Counter originValid, Counter originInvalid) {}

  @Override
  public HttpFilterProvider create(Cors config, FactoryContext context) throws ConfigException {
    var scope = context.stats().stats().scope("cors." + context.stats().prefix().replaceFirst("^http\\.", ""));
    Stats stats = new Stats(scope.counter("origin_valid"), scope.counter("origin_invalid"));
    String filterName = context.filterName();
    return callbacks -> new CorsFilter(filterName, stats, callbacks);
  }

  @Override
  public List<String> routeConfigTypes() {
    return List.of("envoy.extensions.filters.http.cors.v3.CorsPolicy");
  }

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    if (!typedConfig.is(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class)) {
      throw new ConfigException(path, "expected a CorsPolicy");
    }
    io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy p;
    try {
      p = typedConfig.unpack(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
    }
    if (p.hasFilterEnabled() || p.hasShadowEnabled()) {
      throw new ConfigException(path + (p.hasFilterEnabled() ? ".filter_enabled" : ".shadow_enabled"),
          "runtime fractions are not supported by bowline yet");
    }
    List<HeaderMatcher> origins = new ArrayList<>();
    for (int i = 0; i < p.getAllowOriginStringMatchCount(); i++) {
      origins.add(HeaderMatchers.ofValue("origin", p.getAllowOriginStringMatch(i),
          path + ".allow_origin_string_match[" + i + "]"));
    }
    return new Policy(origins, blankToNull(p.getAllowMethods()), blankToNull(p.getAllowHeaders()),
        blankToNull(p.getExposeHeaders()), blankToNull(p.getMaxAge()), p.getAllowCredentials().getValue(),
        p.getAllowPrivateNetworkAccess().getValue(),
        !p.hasForwardNotMatchingPreflights() || p.getForwardNotMatchingPreflights().getValue());
  }

  private static @Nullable String blankToNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
