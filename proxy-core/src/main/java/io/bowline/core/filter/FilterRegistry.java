package io.bowline.core.filter;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.bowline.xds.ConfigException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The explicit list of HTTP filter extensions, keyed by type URL. Built once at boot; never scanned. */
public final class FilterRegistry {
  private final Map<String, HttpFilterFactory<?>> byTypeName = new HashMap<>();
  private final Map<String, HttpFilterFactory<?>> byRouteConfigType = new HashMap<>();

  public FilterRegistry(List<HttpFilterFactory<?>> factories) {
    for (HttpFilterFactory<?> f : factories) {
      byTypeName.put(f.configTypeName(), f);
      for (String t : f.routeConfigTypes()) {
        byRouteConfigType.put(t, f);
      }
    }
  }

  public static FilterRegistry empty() {
    return new FilterRegistry(List.of());
  }

  public @Nullable HttpFilterFactory<?> forType(String fullName) {
    return byTypeName.get(fullName);
  }

  /** Unpacks {@code typed_config} and builds the provider, or fails naming {@code path}. */
  public HttpFilterProvider create(Any typedConfig, HttpFilterFactory.FactoryContext ctx) throws ConfigException {
    String name = typeName(typedConfig);
    TypedStructs.Wrapped wrapped = TypedStructs.unwrap(typedConfig, ctx.fieldPath() + ".typed_config");
    if (wrapped != null) {
      name = wrapped.typeName();
    }
    HttpFilterFactory<?> factory = byTypeName.get(name);
    if (factory == null) {
      throw new ConfigException(ctx.fieldPath() + ".typed_config", "HTTP filter type " + name
          + " is not supported by bowline yet");
    }
    return build(factory, typedConfig, wrapped, ctx);
  }

  /**
   * A network filter before the terminal one that only watches connections (Istio's TCP stats), or null when
   * {@code typedConfig} names no such filter.
   */
  public @Nullable ConnectionObserverProvider connectionObserver(Any typedConfig, HttpFilterFactory.FactoryContext ctx)
      throws ConfigException {
    HttpFilterFactory<?> factory = byTypeName.get(configTypeName(typedConfig));
    if (factory == null) {
      return null;
    }
    TypedStructs.Wrapped wrapped = TypedStructs.unwrap(typedConfig, ctx.fieldPath() + ".typed_config");
    return observer(factory, typedConfig, wrapped, ctx);
  }

  private static <T extends Message> @Nullable ConnectionObserverProvider observer(HttpFilterFactory<T> factory,
      Any any, TypedStructs.@Nullable Wrapped wrapped, HttpFilterFactory.FactoryContext ctx) throws ConfigException {
    return factory.connectionObserver(decode(factory, any, wrapped, ctx.fieldPath() + ".typed_config"), ctx);
  }

  /** A network filter that admits or refuses connections (network RBAC), or null when it names no such filter. */
  public @Nullable ConnectionGate connectionGate(Any typedConfig, HttpFilterFactory.FactoryContext ctx)
      throws ConfigException {
    HttpFilterFactory<?> factory = byTypeName.get(configTypeName(typedConfig));
    if (factory == null) {
      return null;
    }
    TypedStructs.Wrapped wrapped = TypedStructs.unwrap(typedConfig, ctx.fieldPath() + ".typed_config");
    return gate(factory, typedConfig, wrapped, ctx);
  }

  private static <T extends Message> @Nullable ConnectionGate gate(HttpFilterFactory<T> factory, Any any,
      TypedStructs.@Nullable Wrapped wrapped, HttpFilterFactory.FactoryContext ctx) throws ConfigException {
    return factory.connectionGate(decode(factory, any, wrapped, ctx.fieldPath() + ".typed_config"), ctx);
  }

  /** The type URL's full name, as the registry is keyed; a TypedStruct's is its wrapped type's. */
  public static String configTypeName(Any typedConfig) {
    String url = typedConfig.getTypeUrl();
    if (TypedStructs.isTypedStruct(typedConfig)) {
      try {
        TypedStructs.Wrapped w = TypedStructs.unwrap(typedConfig, "");
        return w == null ? typeName(typedConfig) : w.typeName();
      } catch (ConfigException e) {
        return typeName(typedConfig);
      }
    }
    return url.substring(url.lastIndexOf('/') + 1);
  }

  private static String typeName(Any any) {
    String url = any.getTypeUrl();
    return url.substring(url.lastIndexOf('/') + 1);
  }

  /** A {@code typed_per_filter_config} entry (possibly wrapped in {@code envoy.config.route.v3.FilterConfig}). */
  public @Nullable Object routeConfig(Any typedConfig, String path) throws ConfigException {
    Any config = typedConfig;
    boolean optional = false;
    if (config.is(io.envoyproxy.envoy.config.route.v3.FilterConfig.class)) {
      try {
        var fc = config.unpack(io.envoyproxy.envoy.config.route.v3.FilterConfig.class);
        if (fc.getDisabled()) {
          return null; // a disabled filter on this route: bowline treats it as no per-route config
        }
        optional = fc.getIsOptional();
        config = fc.getConfig();
      } catch (InvalidProtocolBufferException e) {
        throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
      }
    }
    String url = config.getTypeUrl();
    HttpFilterFactory<?> factory = byRouteConfigType.get(url.substring(url.lastIndexOf('/') + 1));
    if (factory == null) {
      if (optional) {
        return null;
      }
      throw new ConfigException(path, "per-route config type " + url.substring(url.lastIndexOf('/') + 1)
          + " is not supported by bowline yet");
    }
    return factory.routeConfig(config, path);
  }

  private static <T extends Message> HttpFilterProvider build(HttpFilterFactory<T> factory, Any any,
      TypedStructs.@Nullable Wrapped wrapped, HttpFilterFactory.FactoryContext ctx) throws ConfigException {
    return factory.create(decode(factory, any, wrapped, ctx.fieldPath() + ".typed_config"), ctx);
  }

  /** The filter's config from {@code typed_config}, or from the TypedStruct that wraps it. */
  @SuppressWarnings("unchecked")
  private static <T extends Message> T decode(HttpFilterFactory<T> factory, Any any,
      TypedStructs.@Nullable Wrapped wrapped, String path) throws ConfigException {
    if (wrapped != null) {
      Message.Builder b = factory.defaultConfig().newBuilderForType();
      TypedStructs.merge(wrapped, b, path + ".value");
      return (T) b.build();
    }
    try {
      return factory.parse(any);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
    }
  }

}
