package io.bowline.core.compile;

import io.bowline.core.config.AdminConfig;
import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.config.NodeInfo;
import io.bowline.core.config.ProxyConfig;
import io.bowline.xds.ConfigException;
import io.bowline.core.config.XdsSettings;
import io.bowline.xds.ads.AdsClient;
import io.bowline.xds.ads.XdsTarget;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Node;
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
    if (ctx.allowUnsupportedStaticFields()) {
      return Fields.lenient(ctx.warnings(), () -> compileStatic(b, serviceNode, serviceCluster, ctx));
    }
    return compileStatic(b, serviceNode, serviceCluster, ctx);
  }

  private static ProxyConfig compileStatic(Bootstrap b, String serviceNode, String serviceCluster,
      CompileContext ctx) throws ConfigException {
    Fields.allow(b, "", "node", "admin", "static_resources", "layered_runtime", "stats_flush_interval",
        "dynamic_resources", "cluster_manager", "stats_config", "tracing", "enable_dispatcher_stats",
        "bootstrap_extensions", "default_socket_interface");
    var socketInterface = SocketInterfaceCompiler.compile(b, ctx);
    if (b.hasTracing()) {
      Fields.allow(b.getTracing(), "tracing", "http");
      ctx.bootstrapTracing(b.getTracing().hasHttp() ? b.getTracing().getHttp() : null);
    }
    if (b.hasStatsConfig()) {
      ctx.stats().configure(StatsConfigs.compile(b.getStatsConfig(), "stats_config"));
    }
    Fields.allow(b.getClusterManager(), "cluster_manager", "local_cluster_name");
    Fields.allow(b.getNode(), "node", "id", "cluster", "metadata", "locality", "user_agent_name");
    var sr = b.getStaticResources();
    Fields.allow(sr, "static_resources", "listeners", "clusters", "secrets");
    Map<String, io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret> staticSecrets = new LinkedHashMap<>();
    for (int i = 0; i < sr.getSecretsCount(); i++) {
      var secret = sr.getSecrets(i);
      SecretCompiler.check(secret, "static_resources.secrets[" + i + "]");
      if (secret.getName().isEmpty() || staticSecrets.put(secret.getName(), secret) != null) {
        throw new ConfigException("static_resources.secrets[" + i + "].name", "a unique name is required");
      }
    }
    String id = !serviceNode.isEmpty() ? serviceNode : b.getNode().getId();
    String cluster = !serviceCluster.isEmpty() ? serviceCluster : b.getNode().getCluster();
    ctx.node(id, cluster, b.getNode().getLocality().getZone(), b.getNode().getMetadata());
    XdsSettings xds = b.hasDynamicResources()
        ? xds(b, b.getNode().toBuilder().setId(id).setCluster(cluster).build()) : null;
    ctx.adsAvailable(xds != null);
    Map<String, ClusterConfig> clusters = new LinkedHashMap<>();
    for (int i = 0; i < sr.getClustersCount(); i++) {
      String path = "static_resources.clusters[" + i + "]";
      if (xds != null && onlyPipes(sr.getClusters(i))) {
        // a management server on a unix socket (pilot-agent's xds-grpc and sds-grpc): reached by the xDS
        // clients, never by the data path, which has no unix-socket upstreams yet
        ctx.controlPlaneOnly(sr.getClusters(i).getName());
        continue;
      }
      ClusterConfig c = ClusterCompiler.compile(sr.getClusters(i), path, ctx);
      TlsSources.register(TlsSources.of(c), path + ".transport_socket", ctx, staticSecrets.keySet());
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
      TlsSources.register(TlsSources.of(l), path + ".filter_chains", ctx, staticSecrets.keySet());
      if (!names.add(l.name())) {
        throw new ConfigException(path + ".name", "duplicate listener name " + l.name());
      }
      if (l.address().getPort() != 0 && !addresses.add(l.address())) {
        throw new ConfigException(path + ".address", "another listener is bound to " + l.address());
      }
      listeners.add(l);
    }
    List<String> tlsErrors = ctx.secrets().setStatic(staticSecrets);
    if (!tlsErrors.isEmpty()) {
      throw new ConfigException("static_resources.secrets", "unusable TLS secret: " + tlsErrors.get(0));
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
    String local = b.getClusterManager().getLocalClusterName();
    if (!local.isEmpty() && !clusters.containsKey(local)) {
      // Envoy requires the local cluster among the static clusters
      throw new ConfigException("cluster_manager.local_cluster_name", "unknown static cluster \"" + local + "\"");
    }
    return new ProxyConfig(new NodeInfo(id, cluster, ClusterConfig.localityKey(b.getNode().getLocality()),
        local.isEmpty() ? null : local), admin, listeners, clusters, b, xds, socketInterface);
  }

  /** {@code dynamic_resources}: ADS over gRPC to a static cluster (TCP or unix socket), LDS and CDS from it. */
  private static XdsSettings xds(Bootstrap b, Node node) throws ConfigException {
    var dr = b.getDynamicResources();
    Fields.allow(dr, "dynamic_resources", "ads_config", "lds_config", "cds_config");
    if (!dr.hasAdsConfig()) {
      throw new ConfigException("dynamic_resources.ads_config", "bowline fetches dynamic resources over ADS only");
    }
    ApiConfigSource ads = dr.getAdsConfig();
    String ap = "dynamic_resources.ads_config";
    Fields.allow(ads, ap, "api_type", "transport_api_version", "grpc_services", "set_node_on_first_message_only");
    AdsClient.Mode mode = switch (ads.getApiType()) {
      case GRPC -> AdsClient.Mode.SOTW;
      case DELTA_GRPC -> AdsClient.Mode.DELTA;
      default -> throw new ConfigException(ap + ".api_type", ads.getApiType() + " is not supported (GRPC or DELTA_GRPC)");
    };
    if (ads.getTransportApiVersion() != ApiVersion.V3 && ads.getTransportApiVersion() != ApiVersion.AUTO) {
      throw new ConfigException(ap + ".transport_api_version", "only V3 is supported");
    }
    if (ads.getGrpcServicesCount() != 1) {
      throw new ConfigException(ap + ".grpc_services", "exactly one grpc_service is required");
    }
    GrpcService g = ads.getGrpcServices(0);
    Fields.allow(g, ap + ".grpc_services[0]", "envoy_grpc", "timeout", "initial_metadata");
    if (!g.hasEnvoyGrpc()) {
      throw new ConfigException(ap + ".grpc_services[0]", "envoy_grpc (a static cluster) is required; google_grpc "
          + "is not supported");
    }
    Fields.allow(g.getEnvoyGrpc(), ap + ".grpc_services[0].envoy_grpc", "cluster_name", "authority");
    XdsTarget target = target(b, g.getEnvoyGrpc().getClusterName(), ap + ".grpc_services[0].envoy_grpc.cluster_name");
    long timeout = 15_000;
    if (dr.hasLdsConfig()) {
      timeout = ConfigSources.requireAds(dr.getLdsConfig(), "dynamic_resources.lds_config");
    }
    if (dr.hasCdsConfig()) {
      timeout = Math.max(timeout, ConfigSources.requireAds(dr.getCdsConfig(), "dynamic_resources.cds_config"));
    }
    return new XdsSettings(target, mode, ads.getSetNodeOnFirstMessageOnly(), node, dr.hasLdsConfig(),
        dr.hasCdsConfig(), timeout);
  }

  private static boolean onlyPipes(Cluster c) {
    boolean any = false;
    for (var le : c.getLoadAssignment().getEndpointsList()) {
      for (var e : le.getLbEndpointsList()) {
        if (!e.getEndpoint().getAddress().hasPipe()) {
          return false;
        }
        any = true;
      }
    }
    return any;
  }

  /** The management server a static cluster points at: one endpoint, a TCP address or a unix socket (pipe). */
  public static XdsTarget target(Bootstrap b, String clusterName, String cp) throws ConfigException {
    Cluster xdsCluster = null;
    for (Cluster c : b.getStaticResources().getClustersList()) {
      if (c.getName().equals(clusterName)) {
        xdsCluster = c;
      }
    }
    if (xdsCluster == null) {
      throw new ConfigException(cp, "no static cluster named '" + clusterName + "'");
    }
    XdsTarget.Tls tls = xdsCluster.hasTransportSocket() ? TlsCompiler.managementServer(
        xdsCluster.getTransportSocket(), "cluster '" + clusterName + "'.transport_socket") : null;
    var endpoints = xdsCluster.getLoadAssignment().getEndpointsList();
    if (endpoints.size() != 1 || endpoints.get(0).getLbEndpointsCount() != 1) {
      throw new ConfigException(cp, "cluster '" + clusterName + "' must have exactly one endpoint");
    }
    Address address = endpoints.get(0).getLbEndpoints(0).getEndpoint().getAddress();
    if (address.hasPipe()) {
      return XdsTarget.uds(address.getPipe().getPath(), clusterName);
    }
    XdsTarget t = XdsTarget.tcp(ListenerCompiler.socketAddress(address, "cluster '" + clusterName + "' endpoint"),
        clusterName);
    return tls == null ? t : t.withTls(tls);
  }
}
