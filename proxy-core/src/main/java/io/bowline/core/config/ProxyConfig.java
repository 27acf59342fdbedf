package io.bowline.core.config;

import java.util.List;
import java.util.Map;

/** One complete, validated configuration: what a request sees from its start to its end. */
public record ProxyConfig(
    NodeInfo node,
    AdminConfig admin,
    List<ListenerConfig> listeners,
    Map<String, ClusterConfig> clusters,
    io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap bootstrap,
    @org.jspecify.annotations.Nullable XdsSettings xds,
    SocketInterfaceConfig socketInterface) {

  public ProxyConfig {
    listeners = List.copyOf(listeners);
    clusters = Map.copyOf(clusters);
  }
}
