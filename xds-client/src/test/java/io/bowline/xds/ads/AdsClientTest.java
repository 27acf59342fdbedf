package io.bowline.xds.ads;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import io.bowline.xds.ConfigException;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ADS client against java-control-plane's real server: what it subscribes to, what it ACKs and NACKs (with
 * the handler's message as error_detail), what it keeps when it rejects, and what it sends when it reconnects.
 */
class AdsClientTest {
  final SimpleCache<String> cache = new SimpleCache<>(node -> "all");
  final List<DiscoveryRequest> sotw = new CopyOnWriteArrayList<>();
  final List<DeltaDiscoveryRequest> delta = new CopyOnWriteArrayList<>();
  final Map<String, Map<String, Any>> applied = new ConcurrentHashMap<>();
  Server server;
  AdsClient client;

  Server startServer(int port) throws Exception {
    V3DiscoveryServer discovery = new V3DiscoveryServer(new DiscoveryServerCallbacks() {
      @Override
      public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
        sotw.add(request);
      }

      @Override
      public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
        delta.add(request);
      }
    }, cache);
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(discovery.getAggregatedDiscoveryServiceImpl()).build().start();
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination();
    }
  }

  /** Accepts everything except a cluster named "bad". */
  final ResourceHandler handler = new ResourceHandler() {
    @Override
    public void onResources(String typeUrl, Map<String, Any> resources, String version) throws ConfigException {
      if (resources.containsKey("bad")) {
        throw new ConfigException("Cluster[bad].lb_policy", "LOAD_BALANCING_POLICY_CONFIG is not supported");
      }
      applied.put(typeUrl, resources);
      if (typeUrl.equals(TypeUrls.CLUSTER)) {
        client.subscribe(TypeUrls.ENDPOINT, resources.keySet());
      }
    }
  };

  static Cluster cluster(String name) {
    return Cluster.newBuilder().setName(name).build();
  }

  static ClusterLoadAssignment cla(String name) {
    return ClusterLoadAssignment.newBuilder().setClusterName(name).build();
  }

  void set(String version, List<Cluster> clusters) {
    cache.setSnapshot("all", Snapshot.create(clusters,
        clusters.stream().filter(c -> !c.getName().equals("bad")).map(c -> cla(c.getName())).toList(),
        List.of(), List.of(), List.of(), version));
  }

  AdsClient start(AdsClient.Mode mode) {
    Node node = Node.newBuilder().setId("sidecar~10.0.0.1~app.ns~ns.svc.cluster.local").setCluster("app")
        .setMetadata(com.google.protobuf.Struct.newBuilder().putFields("ISTIO_VERSION",
            com.google.protobuf.Value.newBuilder().setStringValue("1.24.0").build())).build();
    client = new AdsClient(XdsTarget.tcp(new InetSocketAddress("127.0.0.1", server.getPort()), "xds"), node, mode,
        true, handler);
    client.start();
    return client;
  }

  @Test
  void stateOfTheWorldAcksNacksAndKeepsTheLastGoodSet() throws Exception {
    server = startServer(0);
    set("1", List.of(cluster("a"), cluster("b")));
    start(AdsClient.Mode.SOTW);
    await().atMost(Duration.ofSeconds(5)).until(() -> applied.containsKey(TypeUrls.ENDPOINT)
        && applied.get(TypeUrls.ENDPOINT).keySet().equals(Set.of("a", "b")));
    DiscoveryRequest first = sotw.get(0);
    assertEquals("sidecar~10.0.0.1~app.ns~ns.svc.cluster.local", first.getNode().getId());
    assertEquals("1.24.0", first.getNode().getMetadata().getFieldsOrThrow("ISTIO_VERSION").getStringValue());
    assertTrue(sotw.stream().skip(1).allMatch(r -> !r.hasNode()), "node on the first message only");
    await().until(() -> sotw.stream().anyMatch(r -> r.getTypeUrl().equals(TypeUrls.CLUSTER)
        && r.getVersionInfo().equals("1") && !r.getResponseNonce().isEmpty() && !r.hasErrorDetail()));

    set("2", List.of(cluster("a"), cluster("bad")));
    await().atMost(Duration.ofSeconds(5)).until(() -> sotw.stream().anyMatch(r -> r.hasErrorDetail()));
    DiscoveryRequest nack = sotw.stream().filter(DiscoveryRequest::hasErrorDetail).findFirst().orElseThrow();
    assertEquals("1", nack.getVersionInfo(), "a NACK carries the last version accepted");
    assertTrue(nack.getErrorDetail().getMessage().contains("Cluster[bad].lb_policy"), nack.toString());
    assertEquals(Set.of("a", "b"), client.resources(TypeUrls.CLUSTER).keySet(), "the last good set stays");

    set("3", List.of(cluster("a")));
    await().atMost(Duration.ofSeconds(5)).until(() -> applied.get(TypeUrls.CLUSTER).keySet().equals(Set.of("a")));
  }

  @Test
  void deltaReconnectsWithTheVersionsItHas() throws Exception {
    server = startServer(0);
    int port = server.getPort();
    set("1", List.of(cluster("a"), cluster("b")));
    start(AdsClient.Mode.DELTA);
    await().atMost(Duration.ofSeconds(5)).until(() -> applied.containsKey(TypeUrls.ENDPOINT)
        && applied.get(TypeUrls.ENDPOINT).size() == 2);
    DeltaDiscoveryRequest firstCds = delta.stream().filter(r -> r.getTypeUrl().equals(TypeUrls.CLUSTER))
        .findFirst().orElseThrow();
    assertTrue(firstCds.getInitialResourceVersionsMap().isEmpty());

    // removal in delta is explicit
    set("2", List.of(cluster("a")));
    await().atMost(Duration.ofSeconds(5)).until(() -> applied.get(TypeUrls.CLUSTER).keySet().equals(Set.of("a")));

    // the server goes away and comes back: the client resubscribes with what it has
    server.shutdownNow().awaitTermination();
    delta.clear();
    server = startServer(port);
    await().atMost(Duration.ofSeconds(10)).until(() -> delta.stream().anyMatch(r ->
        r.getTypeUrl().equals(TypeUrls.CLUSTER) && r.getInitialResourceVersionsMap().containsKey("a")));
    DeltaDiscoveryRequest again = delta.stream().filter(r -> r.getTypeUrl().equals(TypeUrls.CLUSTER)).findFirst()
        .orElseThrow();
    assertEquals(Set.of("a"), again.getInitialResourceVersionsMap().keySet());
    assertTrue(again.hasNode(), "a new stream sends the node again");
  }

  @Test
  void backoffIsJitteredExponentialFromHalfASecondToThirty() {
    Backoff b = new Backoff(500, 30_000);
    for (int attempt = 0; attempt < 12; attempt++) {
      long ceiling = Math.min(30_000, 500L << attempt);
      long d = b.nextDelayMs();
      assertTrue(d >= 1 && d <= ceiling, attempt + ": " + d);
    }
    b.reset();
    assertTrue(b.nextDelayMs() <= 500);
  }
}
