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
      .add(knownTypes()).build();

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

  static String render(ProxyConfig config, XdsDump xds, Instant loaded, boolean includeEds)
      throws com.google.protobuf.InvalidProtocolBufferException {
    Timestamp ts = Timestamp.newBuilder().setSeconds(loaded.getEpochSecond()).setNanos(loaded.getNano()).build();
    Bootstrap b = redactSecrets(config.bootstrap());
    ClustersConfigDump.Builder clusters = ClustersConfigDump.newBuilder();
    for (var c : b.getStaticResources().getClustersList()) {
      clusters.addStaticClusters(ClustersConfigDump.StaticCluster.newBuilder().setCluster(Any.pack(c))
          .setLastUpdated(ts));
    }
    clusters.setVersionInfo(xds.cdsVersion());
    for (XdsDump.Entry e : xds.activeClusters()) {
      clusters.addDynamicActiveClusters(ClustersConfigDump.DynamicCluster.newBuilder().setVersionInfo(e.version())
          .setCluster(redact(e.resource())).setLastUpdated(timestamp(e.lastUpdated())));
    }
    for (XdsDump.Entry e : xds.warmingClusters()) {
      clusters.addDynamicWarmingClusters(ClustersConfigDump.DynamicCluster.newBuilder().setVersionInfo(e.version())
          .setCluster(redact(e.resource())).setLastUpdated(timestamp(e.lastUpdated())));
    }
    ListenersConfigDump.Builder listeners = ListenersConfigDump.newBuilder();
    for (var l : b.getStaticResources().getListenersList()) {
      listeners.addStaticListeners(ListenersConfigDump.StaticListener.newBuilder().setListener(Any.pack(l))
          .setLastUpdated(ts));
    }
    listeners.setVersionInfo(xds.ldsVersion());
    for (XdsDump.Entry e : xds.activeListeners()) {
      listeners.addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder().setName(e.name())
          .setActiveState(listenerState(e)));
    }
    for (XdsDump.Entry e : xds.warmingListeners()) {
      listeners.addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder().setName(e.name())
          .setWarmingState(listenerState(e)));
    }
    RoutesConfigDump.Builder routes = RoutesConfigDump.newBuilder();
    for (XdsDump.Entry e : xds.routes()) {
      routes.addDynamicRouteConfigs(RoutesConfigDump.DynamicRouteConfig.newBuilder().setVersionInfo(e.version())
          .setRouteConfig(e.resource()).setLastUpdated(timestamp(e.lastUpdated())));
    }
    ConfigDump.Builder dump = ConfigDump.newBuilder()
        .addConfigs(Any.pack(BootstrapConfigDump.newBuilder().setBootstrap(b).setLastUpdated(ts).build()))
        .addConfigs(Any.pack(clusters.build()))
        .addConfigs(Any.pack(listeners.build()))
        .addConfigs(Any.pack(routes.build()));
    if (includeEds) {
      EndpointsConfigDump.Builder eds = EndpointsConfigDump.newBuilder();
      for (XdsDump.Entry e : xds.endpoints()) {
        eds.addDynamicEndpointConfigs(EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
            .setVersionInfo(e.version()).setEndpointConfig(e.resource()).setLastUpdated(timestamp(e.lastUpdated())));
      }
      dump.addConfigs(Any.pack(eds.build()));
    }
    return JsonFormat.printer().usingTypeRegistry(REGISTRY).preservingProtoFieldNames().print(dump.build());
  }

  private static ListenersConfigDump.DynamicListenerState listenerState(XdsDump.Entry e) {
    return ListenersConfigDump.DynamicListenerState.newBuilder().setVersionInfo(e.version())
        .setListener(redact(e.resource())).setLastUpdated(timestamp(e.lastUpdated())).build();
  }

  private static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  /** Private keys never leave the process, as Envoy redacts them ("[redacted]"). */
  private static Bootstrap redactSecrets(Bootstrap b) {
    String text = b.toString();
    if (!text.contains("private_key")) {
      return b;
    }
    Bootstrap.Builder out = b.toBuilder();
    var sr = out.getStaticResourcesBuilder();
    for (var lb : sr.getListenersBuilderList()) {
      for (var fc : lb.getFilterChainsBuilderList()) {
        if (fc.hasTransportSocket()) {
          fc.getTransportSocketBuilder().setTypedConfig(redact(fc.getTransportSocket().getTypedConfig()));
        }
      }
    }
    for (var cb : sr.getClustersBuilderList()) {
      if (cb.hasTransportSocket()) {
        cb.getTransportSocketBuilder().setTypedConfig(redact(cb.getTransportSocket().getTypedConfig()));
      }
    }
    return out.build();
  }

  /** Clusters and listeners from xDS: their TLS contexts' private keys are redacted too. */
  private static Any redact(Any any) {
    try {
      if (any.is(io.envoyproxy.envoy.config.cluster.v3.Cluster.class)) {
        var c = any.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class).toBuilder();
        if (c.hasTransportSocket()) {
          c.getTransportSocketBuilder().setTypedConfig(redact(c.getTransportSocket().getTypedConfig()));
        }
        return Any.pack(c.build());
      }
      if (any.is(io.envoyproxy.envoy.config.listener.v3.Listener.class)) {
        var l = any.unpack(io.envoyproxy.envoy.config.listener.v3.Listener.class).toBuilder();
        for (var fc : l.getFilterChainsBuilderList()) {
          if (fc.hasTransportSocket()) {
            fc.getTransportSocketBuilder().setTypedConfig(redact(fc.getTransportSocket().getTypedConfig()));
          }
        }
        return Any.pack(l.build());
      }
      if (any.is(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.class)) {
        var d = any.unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.class)
            .toBuilder();
        d.getCommonTlsContextBuilder().getTlsCertificatesBuilderList().forEach(ConfigDumps::redactCert);
        return Any.pack(d.build());
      }
      if (any.is(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.class)) {
        var u = any.unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.class)
            .toBuilder();
        u.getCommonTlsContextBuilder().getTlsCertificatesBuilderList().forEach(ConfigDumps::redactCert);
        return Any.pack(u.build());
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return Any.getDefaultInstance();
    }
    return any;
  }

  private static void redactCert(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate.Builder c) {
    if (c.hasPrivateKey() && !c.getPrivateKey().hasFilename()) {
      c.setPrivateKey(io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder().setInlineString("[redacted]"));
    }
  }
}
