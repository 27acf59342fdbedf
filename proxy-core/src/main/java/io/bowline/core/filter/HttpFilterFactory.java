package io.bowline.core.filter;

import com.google.protobuf.Message;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;

/**
 * A stateless factory for one HTTP filter extension, registered by Envoy name and config type. {@link #create} runs
 * once per config version, off the data path: parse and validate there, so the provider it returns only instantiates.
 */
public interface HttpFilterFactory<T extends Message> {
  /** Envoy's canonical name, e.g. {@code envoy.filters.http.fault}. */
  String name();

  /**
   * The config proto's full name, the registry's key (a type URL's last part). Declared as a name, not derived from
   * {@link #defaultConfig()}: a generated message's default instance loads its class, so a registry built from them
   * loaded the config classes of every filter the binary has, hundreds of classes and megabytes of metaspace that a
   * configuration naming no such filter never uses. {@code FilterNamesTest} checks each against its class.
   */
  String configTypeName();

  /** The config proto's class, for decoding; not touched until a configuration names the filter. */
  Class<T> configType();

  /** The default instance of {@link #configType()}: the builder for a config given as a TypedStruct. */
  T defaultConfig();

  HttpFilterProvider create(T config, FactoryContext context) throws ConfigException;

  /**
   * Decodes {@code typed_config}. Generated config types unpack themselves; a factory whose config has no generated
   * class (Istio's, read as {@link com.google.protobuf.DynamicMessage}) overrides this.
   */
  default T parse(com.google.protobuf.Any typedConfig) throws com.google.protobuf.InvalidProtocolBufferException {
    return typedConfig.unpack(configType());
  }

  /** The full names of the per-route config types this filter takes (Envoy reuses the filter's own by default). */
  default java.util.List<String> routeConfigTypes() {
    return java.util.List.of(configTypeName());
  }

  /**
   * The same config as a network filter that watches TCP connections (Istio's {@code istio.stats} is both); null
   * when this filter is HTTP only.
   */
  default @org.jspecify.annotations.Nullable ConnectionObserverProvider connectionObserver(T config,
      FactoryContext context) throws ConfigException {
    return null;
  }

  /** The same config as a connection-admitting network filter (network RBAC); null when it is not one. */
  default @org.jspecify.annotations.Nullable ConnectionGate connectionGate(T config, FactoryContext context)
      throws ConfigException {
    return null;
  }

  /**
   * A route's (or virtual host's) {@code typed_per_filter_config} for this filter, parsed when the route table is
   * compiled; the filter reads it back through {@link HttpFilterCallbacks#perRouteConfig}. Filters that take none
   * refuse it.
   */
  default Object routeConfig(com.google.protobuf.Any typedConfig, String path) throws ConfigException {
    throw new ConfigException(path, name() + " takes no per-route configuration");
  }

  /**
   * What a factory may use while building its config.
   *
   * @param stats the connection manager's stats scope ({@code http.<stat_prefix>.})
   * @param fieldPath where the filter's config sits, for error messages
   * @param filterName the filter's name in the connection manager
   * @param clusters the upstream clusters, for filters that call a service of their own
   * @param listener the listener the filter serves: its direction and this proxy's node
   */
  record FactoryContext(Stats.Scope stats, String fieldPath, String filterName, ClusterDirectory clusters,
      ListenerContext listener) {
    /** A context for a filter outside any listener (tests, tools). */
    public FactoryContext(Stats.Scope stats, String fieldPath, String filterName, ClusterDirectory clusters) {
      this(stats, fieldPath, filterName, clusters, ListenerContext.UNKNOWN);
    }
  }
}
