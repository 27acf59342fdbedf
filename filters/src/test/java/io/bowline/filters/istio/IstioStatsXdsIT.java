package io.bowline.filters.istio;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.XdsResources;
import io.bowline.core.testing.XdsTestServer;
import io.bowline.filters.BuiltinFilters;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The service Istio's metrics name comes from the cluster's {@code istio} metadata, which bowline reads once per
 * cluster config and event loop: a CDS update that changes it must change the label, with no restart.
 */
@ExtendWith(LeakGuard.class)
class IstioStatsXdsIT {
  private static String listener() {
    return """
        name: http
        address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        traffic_direction: INBOUND
        filter_chains:
        - filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: in
              rds: {route_config_name: local, config_source: {ads: {}, resource_api_version: V3}}
              http_filters:
              - name: istio.stats
                typed_config: {"@type": type.googleapis.com/stats.PluginConfig}
              - name: envoy.filters.http.router
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
  }

  /** Cluster {@code app} (a name that says nothing of a service) whose metadata names {@code service}. */
  private static String cluster(String service) {
    return XdsResources.edsCluster("app") + """
        metadata: {filter_metadata: {istio: {services: [{host: %s.default.svc.cluster.local, name: %s, namespace: default}]}}}
        """.formatted(service, service);
  }

  @Test
  void aClusterUpdateRenamesTheDestinationService() throws Exception {
    try (ScriptedBackend backend = ScriptedBackend.start(req -> new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER));
        XdsTestServer xds = XdsTestServer.tcp();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), xds.bootstrap("DELTA_GRPC"), Map.of())) {
      xds.set("1", List.of(cluster("reviews")), List.of(XdsResources.endpoints("app", backend.port())),
          List.of(listener()), List.of(XdsResources.routes("/", "app")));
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      assertEquals(200, get(client, proxy));
      assertTrue(proxy.admin("/stats/prometheus")
          .contains("destination_service=\"reviews.default.svc.cluster.local\""));

      xds.set("2", List.of(cluster("ratings")), List.of(XdsResources.endpoints("app", backend.port())),
          List.of(listener()), List.of(XdsResources.routes("/", "app")));
      // the same keep-alive connection and event loop: only the new cluster config can change the answer
      await().atMost(Duration.ofSeconds(10)).until(() -> get(client, proxy) == 200 && proxy
          .admin("/stats/prometheus").contains("destination_service=\"ratings.default.svc.cluster.local\""));
      String prom = proxy.admin("/stats/prometheus");
      assertTrue(prom.contains("destination_service_name=\"ratings\""), prom);
    }
  }

  /**
   * An outbound sidecar whose destination sends no peer metadata: the endpoint's {@code istio.workload} names it, and
   * an EDS update that gives the same address another workload (a pod's IP reused) renames it.
   */
  @Test
  void anEndpointUpdateRenamesTheDestinationWorkload() throws Exception {
    try (ScriptedBackend backend = ScriptedBackend.start(req -> new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER));
        XdsTestServer xds = XdsTestServer.tcp();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), xds.bootstrap("DELTA_GRPC"), Map.of())) {
      String outbound = listener().replace("traffic_direction: INBOUND", "traffic_direction: OUTBOUND");
      xds.set("1", List.of(cluster("reviews")), List.of(endpoint("app", backend.port(), "reviews-v1")),
          List.of(outbound), List.of(XdsResources.routes("/", "app")));
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      assertEquals(200, get(client, proxy));
      assertTrue(proxy.admin("/stats/prometheus").contains("destination_workload=\"reviews-v1\""));

      xds.set("2", List.of(cluster("reviews")), List.of(endpoint("app", backend.port(), "reviews-v2")),
          List.of(outbound), List.of(XdsResources.routes("/", "app")));
      await().atMost(Duration.ofSeconds(10)).until(() -> get(client, proxy) == 200 && proxy
          .admin("/stats/prometheus").contains("destination_workload=\"reviews-v2\""));
    }
  }

  private static String endpoint(String cluster, int port, String workload) {
    return XdsResources.endpoints(cluster, port).stripTrailing()
        + "\n    metadata: {filter_metadata: {istio: {workload: \"" + workload + ";default;reviews;v1;Kubernetes\"}}}\n";
  }

  private static int get(HttpClient client, ProxyHarness proxy) throws Exception {
    return client.send(HttpRequest.newBuilder(proxy.uri("http", "/x")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
