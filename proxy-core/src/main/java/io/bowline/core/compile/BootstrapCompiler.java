package io.bowline.core.compile;

import io.bowline.core.config.AdminConfig;
import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.config.NodeInfo;
import io.bowline.core.config.ProxyConfig;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An Envoy v3 {@link Bootstrap} into the immutable {@link ProxyConfig}. Every field bowline does not implement is
 * refused by path, so a config is either carried out as Envoy would or rejected with a reason.
 */
public final class BootstrapCompiler {
  private BootstrapCompiler() {}

  public static ProxyConfig compile(Bootstrap b, String serviceNode, String serviceCluster, CompileContext ctx)
      throws ConfigException {
    Fields.allow(b, "", "node", "admin", "static_resources", "layered_runtime", "stats_flush_interval");
    Fields.allow(b.getNode(), "node", "id", "cluster", "metadata", "locality", "user_agent_name");
    var sr = b.getStaticResources();
    Fields.allow(sr, "static_resources", "listeners", "clusters");
    Map<String, ClusterConfig> clusters = new LinkedHashMap<>();
    for (int i = 0; i < sr.getClustersCount(); i++) {
      String path = "static_resources.clusters[" + i + "]";
      ClusterConfig c = ClusterCompiler.compile(sr.getClusters(i), path);
      if (clusters.put(c.name(), c) != null) {
        throw new ConfigException(path + ".name", "duplicate cluster name " + c.name());
      }
    }
    ctx.knownClusters(clusters.keySet());
    if (b.hasLayeredRuntime()) {
      ctx.warn("layered_runtime: accepted; runtime overrides are not applied by bowline yet");
    }
    if (b.hasStatsFlushInterval()) {
      ctx.warn("stats_flush_interval: accepted; bowline has no stats sinks yet");
    }
    List<ListenerConfig> listeners = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<java.net.InetSocketAddress> addresses = new HashSet<>();
    for (int i = 0; i < sr.getListenersCount(); i++) {
      String path = "static_resources.listeners[" + i + "]";
      ListenerConfig l = ListenerCompiler.compile(sr.getListeners(i), path, ctx);
      if (!names.add(l.name())) {
        throw new ConfigException(path + ".name", "duplicate listener name " + l.name());
      }
      if (l.address().getPort() != 0 && !addresses.add(l.address())) {
        throw new ConfigException(path + ".address", "another listener is bound to " + l.address());
      }
      listeners.add(l);
    }
    AdminConfig admin = new AdminConfig(null);
    if (b.hasAdmin()) {
      Fields.allow(b.getAdmin(), "admin", "address", "access_log", "access_log_path");
      if (b.getAdmin().getAccessLogCount() > 0 || !b.getAdmin().getAccessLogPath().isEmpty()) {
        ctx.warn("admin.access_log: accepted; admin requests are not logged yet");
      }
      if (b.getAdmin().hasAddress()) {
        admin = new AdminConfig(ListenerCompiler.socketAddress(b.getAdmin().getAddress(), "admin.address"));
      }
    }
    String id = !serviceNode.isEmpty() ? serviceNode : b.getNode().getId();
    String cluster = !serviceCluster.isEmpty() ? serviceCluster : b.getNode().getCluster();
    return new ProxyConfig(new NodeInfo(id, cluster), admin, listeners, clusters, b);
  }
}
