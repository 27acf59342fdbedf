package io.bowline.core.testing;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.bowline.xds.bootstrap.BootstrapLoader;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.ProtoResourcesSerializer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * A real xDS management server for tests: java-control-plane's {@link V3DiscoveryServer} over its
 * {@link SimpleCache}, on a loopback TCP port or a unix socket, serving one snapshot to every node. It records the
 * NACKs it receives (requests carrying error_detail) so tests can check what the proxy said.
 */
public final class XdsTestServer implements AutoCloseable {
  public final SimpleCache<String> cache = new SimpleCache<>(node -> "all");
  public final List<String> nacks = new CopyOnWriteArrayList<>();
  /** State-of-the-world requests and responses as they pass, with System.nanoTime (a benchmark's timeline). */
  public final List<Event> events = new CopyOnWriteArrayList<>();

  /** One request (an ACK, a NACK or a subscription) or response, of {@code type} (cds, eds, ...). */
  public record Event(long nanos, String what, String type, String version, int resources) {}

  private static String shortType(String typeUrl) {
    return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
  }
  private final Server server;
  private final Packer packer = new Packer();

  /**
   * Packs each resource into its {@code Any} as java-control-plane's default serializer does, unless
   * {@link #prepare} packed that very message already.
   */
  private static final class Packer implements ProtoResourcesSerializer {
    private final Map<Message, Any> packed = Collections.synchronizedMap(new IdentityHashMap<>());

    @Override
    public Any serialize(Message resource, Resources.ApiVersion apiVersion) {
      Any any = packed.get(resource);
      return any != null ? any : Any.pack(resource);
    }
  }
  private final @Nullable EpollEventLoopGroup group;
  private final @Nullable String udsPath;

  private XdsTestServer(@Nullable String udsPath, int port) throws java.io.IOException {
    this(udsPath, port, null);
  }

  private XdsTestServer(@Nullable String udsPath, int port, TestCerts.@Nullable Pem tls) throws java.io.IOException {
    this.udsPath = udsPath;
    DiscoveryServerCallbacks callbacks = new DiscoveryServerCallbacks() {
      @Override
      public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
        events.add(new Event(System.nanoTime(), "request", shortType(request.getTypeUrl()), request.getVersionInfo(),
            request.getResourceNamesCount()));
        if (request.hasErrorDetail()) {
          nacks.add(request.getErrorDetail().getMessage());
        }
      }

      @Override
      public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
        events.add(new Event(System.nanoTime(), "response", shortType(response.getTypeUrl()),
            response.getVersionInfo(), response.getResourcesCount()));
      }

      @Override
      public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
        if (request.hasErrorDetail()) {
          nacks.add(request.getErrorDetail().getMessage());
        }
      }
    };
    V3DiscoveryServer discovery = new V3DiscoveryServer(List.of(callbacks), cache, new DefaultExecutorGroup(),
        packer);
    NettyServerBuilder b;
    if (udsPath != null) {
      group = new EpollEventLoopGroup(1);
      b = NettyServerBuilder.forAddress(new DomainSocketAddress(udsPath))
          .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group);
    } else {
      group = null;
      b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
      if (tls != null) {
        b.sslContext(io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forServer(
            new java.io.ByteArrayInputStream(tls.certificate().getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
            new java.io.ByteArrayInputStream(tls.privateKey().getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
            .build());
      }
    }
    server = b.addService(discovery.getAggregatedDiscoveryServiceImpl())
        .addService(discovery.getSecretDiscoveryServiceImpl()).build().start();
  }

  public static XdsTestServer tcp() throws java.io.IOException {
    return new XdsTestServer(null, 0);
  }

  /** On a given port: a management server that comes back where the last one was. */
  public static XdsTestServer tcp(int port) throws java.io.IOException {
    return new XdsTestServer(null, port);
  }

  /** Over TLS with {@code cert} (TCP, loopback, a port of its own). */
  public static XdsTestServer tls(TestCerts.Pem cert) throws java.io.IOException {
    return new XdsTestServer(null, 0, cert);
  }

  public static XdsTestServer uds(String path) throws java.io.IOException {
    return new XdsTestServer(path, 0);
  }

  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** Serves a new snapshot: resources as YAML, one version for all. */
  public void set(String version, List<String> clusters, List<String> endpoints, List<String> listeners,
      List<String> routes) {
    set(version, clusters, endpoints, listeners, routes, List.of());
  }

  /** Serves a new snapshot with SDS secrets too. */
  public void set(String version, List<String> clusters, List<String> endpoints, List<String> listeners,
      List<String> routes, List<String> secrets) {
    serve(snapshot(version, clusters, endpoints, listeners, routes, secrets));
  }

  /**
   * Packs a snapshot's resources ahead of serving it, as a control plane that has its answer ready: a benchmark then
   * times the proxy, not this server serializing ten thousand resources on the same cores.
   */
  public void prepare(Snapshot snapshot) {
    for (var resources : List.of(snapshot.clusters(), snapshot.endpoints(), snapshot.listeners(), snapshot.routes(),
        snapshot.secrets())) {
      for (var versioned : resources.versionedResources().values()) {
        Message m = versioned.resource();
        packer.packed.put(m, Any.pack(m));
      }
    }
  }

  /** Serves a snapshot built earlier (a benchmark times only the serving). */
  public void serve(Snapshot snapshot) {
    cache.setSnapshot("all", snapshot);
  }

  /** Serves YAML resources plus clusters built by the caller (ones YAML cannot express, such as undecodable ones). */
  public void setWithBuiltClusters(String version, List<String> clusters, List<Cluster> builtClusters,
      List<String> endpoints, List<String> listeners, List<String> routes) {
    Snapshot parsed = snapshot(version, clusters, endpoints, listeners, routes, List.of());
    List<Cluster> all = new java.util.ArrayList<>(builtClusters);
    all.addAll(parsed.clusters().resources().values());
    serve(Snapshot.create(all, parsed.endpoints().resources().values(), parsed.listeners().resources().values(),
        parsed.routes().resources().values(), List.of(), version));
  }

  /**
   * A cluster named {@code name} whose bytes do not decode: its eds_cluster_config (field 3, carried as an unknown
   * field so the builder lets it through) holds a service_name that is not UTF-8.
   */
  public static Cluster undecodableCluster(String name) {
    byte[] badEdsConfig = {0x12, 0x02, (byte) 0xc3, 0x28};
    return Cluster.newBuilder().setName(name).setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
        .addField(3, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
            .addLengthDelimited(com.google.protobuf.ByteString.copyFrom(badEdsConfig)).build())
        .build()).build();
  }

  /** Parses the resources (YAML) into a snapshot without serving it. */
  public static Snapshot snapshot(String version, List<String> clusters, List<String> endpoints,
      List<String> listeners, List<String> routes, List<String> secrets) {
    List<Cluster> c = clusters.stream().map(y -> XdsTestServer.<Cluster>parse(y, Cluster.newBuilder())).toList();
    List<ClusterLoadAssignment> e = endpoints.stream()
        .map(y -> XdsTestServer.<ClusterLoadAssignment>parse(y, ClusterLoadAssignment.newBuilder())).toList();
    List<Listener> l = listeners.stream().map(y -> XdsTestServer.<Listener>parse(y, Listener.newBuilder())).toList();
    List<RouteConfiguration> r = routes.stream()
        .map(y -> XdsTestServer.<RouteConfiguration>parse(y, RouteConfiguration.newBuilder())).toList();
    List<io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret> sec = secrets.stream()
        .map(y -> XdsTestServer.<io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret>parse(y,
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.newBuilder())).toList();
    return Snapshot.create(c, e, l, r, sec, version);
  }

  @SuppressWarnings("unchecked")
  private static <M extends Message> M parse(String yaml, Message.Builder builder) {
    try {
      return (M) BootstrapLoader.mergeYaml(yaml, builder).build();
    } catch (io.bowline.xds.ConfigException e) {
      throw new IllegalArgumentException(e.getMessage() + " in\n" + yaml, e);
    }
  }

  /** The bootstrap that points bowline at this server over ADS ({@code GRPC} or {@code DELTA_GRPC}). */
  public String bootstrap(String apiType) {
    return bootstrap(apiType, "");
  }

  /** The same, with more static clusters (YAML list items at the clusters' indentation). */
  public String bootstrap(String apiType, String extraClusters) {
    return bootstrap(apiType, extraClusters, "");
  }

  /** The same, with the xds-grpc cluster's extra fields (e.g. a transport_socket), indented as cluster fields. */
  public String bootstrap(String apiType, String extraClusters, String xdsClusterExtra) {
    String address = udsPath != null ? "{pipe: {path: " + udsPath + "}}"
        : "{socket_address: {address: 127.0.0.1, port_value: " + port() + "}}";
    return """
        node: {id: "sidecar~127.0.0.1~test.default~default.svc.cluster.local", cluster: test}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        dynamic_resources:
          ads_config:
            api_type: %s
            transport_api_version: V3
            set_node_on_first_message_only: true
            grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
          lds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: 10s}
          cds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: 10s}
        static_resources:
          clusters:
          - name: xds-grpc
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: xds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: %s}}]}]
        """.formatted(apiType, address) + xdsClusterExtra.indent(4) + extraClusters;
  }

  /** Stops serving (the proxy keeps its configuration and reconnects with backoff). */
  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
