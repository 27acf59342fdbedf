package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.compile.RouteCompiler;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.BootstrapLoader;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a route picks its cluster beyond a plain name: {@code cluster_header} (a missing header or unknown cluster gets
 * {@code cluster_not_found_response_code}, 503 by default), and the header changes of the weighted cluster chosen,
 * applied before the route's own; {@code total_weight} must match the weights' sum.
 */
@ExtendWith(LeakGuard.class)
class ClusterSelectionIT {
  static TestBackend a;
  static TestBackend b;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    a = TestBackend.start();
    b = TestBackend.start();
    String yaml = ProxyHarness.httpBootstrap("""
        - name: all
          domains: ["*"]
          routes:
          - match: {prefix: "/by-header/"}
            route: {cluster_header: X-Target}
          - match: {prefix: "/by-header-404/"}
            route: {cluster_header: x-target, cluster_not_found_response_code: NOT_FOUND}
          - match: {prefix: "/weighted/"}
            request_headers_to_add: [{header: {key: x-route, value: r}}]
            response_headers_to_add: [{header: {key: x-order, value: route}}]
            route:
              weighted_clusters:
                total_weight: 100
                clusters:
                - name: a
                  weight: 100
                  request_headers_to_add: [{header: {key: x-cluster, value: a}}]
                  request_headers_to_remove: [x-drop]
                  response_headers_to_add: [{header: {key: x-order, value: weighted}}]
                - {name: b, weight: 0}
        """, ProxyHarness.staticCluster("a", "${A}") + ProxyHarness.staticCluster("b", "${B}"));
    proxy = ProxyHarness.start(yaml, Map.of("A", a.port(), "B", b.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    a.close();
    b.close();
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      r.headers(headers);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void clusterHeaderNamesTheCluster() throws Exception {
    assertEquals(200, get("/by-header/1", "x-target", "b").statusCode());
    assertEquals(1, b.requestsTo("/by-header/1"));
    assertEquals(200, get("/by-header/2", "x-target", "a").statusCode());
    assertEquals(1, a.requestsTo("/by-header/2"));
    assertEquals(503, get("/by-header/3").statusCode(), "no header: cluster not found");
    assertEquals(503, get("/by-header/4", "x-target", "nope").statusCode());
    assertEquals(404, get("/by-header-404/5", "x-target", "nope").statusCode(), "cluster_not_found_response_code");
  }

  @Test
  void theChosenWeightedClustersHeaderChangesComeFirst() throws Exception {
    HttpResponse<String> r = get("/weighted/echo", "x-drop", "1");
    assertEquals(200, r.statusCode());
    var seen = a.received.stream().filter(q -> q.uri().equals("/weighted/echo")).findFirst().orElseThrow();
    assertEquals("a", seen.headers().get("x-cluster"));
    assertEquals("r", seen.headers().get("x-route"));
    assertTrue(!seen.headers().containsKey("x-drop"), "request_headers_to_remove of the weighted cluster");
    assertEquals(java.util.List.of("weighted", "route"), r.headers().allValues("x-order"),
        "weighted cluster first, then the route (Envoy's order)");
  }

  @Test
  void totalWeightMustMatchTheWeights() {
    String yaml = """
        virtual_hosts:
        - name: v
          domains: ["*"]
          routes:
          - match: {prefix: "/"}
            route: {weighted_clusters: {total_weight: 90, clusters: [{name: a, weight: 50}, {name: b, weight: 50}]}}
        """;
    ConfigException e = assertThrows(ConfigException.class, () -> RouteCompiler.compile(
        BootstrapLoader.mergeYaml(yaml, RouteConfiguration.newBuilder()).build(), "r", FilterRegistry.empty()));
    assertTrue(e.getMessage().contains("total_weight"), e.getMessage());
  }
}
