package io.bowline.core.admin;

import io.bowline.core.xds.XdsDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import io.bowline.core.config.ProxyConfig;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.time.Instant;

/** {@code /config_dump} in Envoy's shape, built from Envoy's own admin protos. */
final class ConfigDumps {
  private static final JsonFormat.TypeRegistry REGISTRY = JsonFormat.TypeRegistry.newBuilder()
      .add(ConfigDump.getDescriptor()).add(Bootstrap.getDescriptor())
      .add(RoutesConfigDump.getDescriptor()).add(EndpointsConfigDump.getDescriptor())
      .add(io.envoyproxy.envoy.config.cluster.v3.Cluster.getDescriptor())
      .add(io.envoyproxy.envoy.config.listener.v3.Listener.getDescriptor())
      .add(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor())
      .add(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.getDescriptor())
      .add(SecretsConfigDump.getDescriptor()).add(Secret.getDescriptor())
      .add(knownTypes()).build();
  /** Every type a configuration's Any may carry: to look inside for what must not show, and for a mask to trim. */
  private static final JsonFormat.TypeRegistry TYPES = io.bowline.xds.bootstrap.EnvoyTypes.registry();
  private static final Redaction REDACTION = new Redaction(TYPES);

  private ConfigDumps() {}

  private static java.util.List<com.google.protobuf.Descriptors.Descriptor> knownTypes() {
    return java.util.List.of(
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
            .getDescriptor(),
        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor(),
        io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor(),
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor(),
        io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDescriptor(),
        io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector.getDescriptor(),
        io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog.getDescriptor(),
        io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor());
  }

  /** The dump, or the part of it {@code query} asks for (Envoy's {@code resource}, {@code mask}, {@code name_regex}). */
  static String render(ProxyConfig config, XdsDump xds, Instant loaded, boolean includeEds, ConfigDumpQuery query)
      throws com.google.protobuf.InvalidProtocolBufferException, ConfigDumpQuery.Refused {
    Timestamp ts = Timestamp.newBuilder().setSeconds(loaded.getEpochSecond()).setNanos(loaded.getNano()).build();
    Bootstrap b = REDACTION.redact(config.bootstrap());
    ClustersConfigDump.Builder clusters = ClustersConfigDump.newBuilder();
    for (var c : query.named(b.getStaticResources().getClustersList(), c -> c.getName())) {
      clusters.addStaticClusters(ClustersConfigDump.StaticCluster.newBuilder().setCluster(Any.pack(c))
          .setLastUpdated(ts));
    }
    clusters.setVersionInfo(xds.cdsVersion());
    for (XdsDump.Entry e : query.named(xds.activeClusters(), XdsDump.Entry::name)) {
      clusters.addDynamicActiveClusters(ClustersConfigDump.DynamicCluster.newBuilder().setVersionInfo(e.version())
          .setCluster(REDACTION.redact(e.resource())).setLastUpdated(timestamp(e.lastUpdated())));
    }
    for (XdsDump.Entry e : query.named(xds.warmingClusters(), XdsDump.Entry::name)) {
      clusters.addDynamicWarmingClusters(ClustersConfigDump.DynamicCluster.newBuilder().setVersionInfo(e.version())
          .setCluster(REDACTION.redact(e.resource())).setLastUpdated(timestamp(e.lastUpdated())));
    }
    ListenersConfigDump.Builder listeners = ListenersConfigDump.newBuilder();
    for (var l : query.named(b.getStaticResources().getListenersList(), l -> l.getName())) {
      listeners.addStaticListeners(ListenersConfigDump.StaticListener.newBuilder().setListener(Any.pack(l))
          .setLastUpdated(ts));
    }
    listeners.setVersionInfo(xds.ldsVersion());
    for (XdsDump.Entry e : query.named(xds.activeListeners(), XdsDump.Entry::name)) {
      listeners.addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder().setName(e.name())
          .setActiveState(listenerState(e)));
    }
    for (XdsDump.Entry e : query.named(xds.warmingListeners(), XdsDump.Entry::name)) {
      listeners.addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder().setName(e.name())
          .setWarmingState(listenerState(e)));
    }
    RoutesConfigDump.Builder routes = RoutesConfigDump.newBuilder();
    for (XdsDump.Entry e : query.named(xds.routes(), XdsDump.Entry::name)) {
      routes.addDynamicRouteConfigs(RoutesConfigDump.DynamicRouteConfig.newBuilder().setVersionInfo(e.version())
          .setRouteConfig(e.resource()).setLastUpdated(timestamp(e.lastUpdated())));
    }
    // Envoy's order: bootstrap, clusters, endpoints (with ?include_eds), listeners, routes, secrets
    java.util.List<com.google.protobuf.Message> dumps = new java.util.ArrayList<>(6);
    dumps.add(BootstrapConfigDump.newBuilder().setBootstrap(b).setLastUpdated(ts).build());
    dumps.add(clusters.build());
    if (includeEds) {
      EndpointsConfigDump.Builder eds = EndpointsConfigDump.newBuilder();
      for (XdsDump.Entry e : query.named(xds.endpoints(), XdsDump.Entry::name)) {
        eds.addDynamicEndpointConfigs(EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
            .setVersionInfo(e.version()).setEndpointConfig(e.resource()).setLastUpdated(timestamp(e.lastUpdated())));
      }
      dumps.add(eds.build());
    }
    dumps.add(listeners.build());
    dumps.add(routes.build());
    dumps.add(secrets(b, xds, ts, query));
    ConfigDump.Builder dump = ConfigDump.newBuilder();
    for (com.google.protobuf.Message m : query.select(dumps, TYPES)) {
      dump.addConfigs(Any.pack(m));
    }
    return JsonFormat.printer().usingTypeRegistry(REGISTRY).preservingProtoFieldNames().print(dump.build());
  }

  private static ListenersConfigDump.DynamicListenerState listenerState(XdsDump.Entry e) {
    return ListenersConfigDump.DynamicListenerState.newBuilder().setVersionInfo(e.version())
        .setListener(REDACTION.redact(e.resource())).setLastUpdated(timestamp(e.lastUpdated())).build();
  }

  private static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  /**
   * The bootstrap's static secrets, the SDS secrets in force and the ones asked for that have not arrived (version
   * {@code uninitialized}, as Envoy shows them): what {@code istioctl proxy-config secret} reads. Keys redacted.
   */
  private static SecretsConfigDump secrets(Bootstrap redacted, XdsDump xds, Timestamp loaded, ConfigDumpQuery query) {
    SecretsConfigDump.Builder out = SecretsConfigDump.newBuilder();
    for (Secret s : query.named(redacted.getStaticResources().getSecretsList(), s -> s.getName())) {
      out.addStaticSecrets(SecretsConfigDump.StaticSecret.newBuilder().setName(s.getName()).setLastUpdated(loaded)
          .setSecret(Any.pack(s)));
    }
    for (XdsDump.Entry e : query.named(xds.activeSecrets(), XdsDump.Entry::name)) {
      out.addDynamicActiveSecrets(dynamicSecret(e));
    }
    for (XdsDump.Entry e : query.named(xds.warmingSecrets(), XdsDump.Entry::name)) {
      out.addDynamicWarmingSecrets(dynamicSecret(e));
    }
    return out.build();
  }

  private static SecretsConfigDump.DynamicSecret dynamicSecret(XdsDump.Entry e) {
    return SecretsConfigDump.DynamicSecret.newBuilder().setName(e.name()).setVersionInfo(e.version())
        .setLastUpdated(timestamp(e.lastUpdated())).setSecret(REDACTION.redact(e.resource())).build();
  }
}
