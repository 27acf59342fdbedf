package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Zone-aware routing: this proxy is in zone a, and its local cluster (cluster_manager.local_cluster_name) has half of
 * its hosts in zone a and half in zone b. An upstream with half its hosts in zone a keeps every request in zone a;
 * one with a third in zone a keeps two thirds there (its share over ours) and sends the rest to zone b; one smaller
 * than min_cluster_size is balanced over every host.
 */
@ExtendWith(LeakGuard.class)
class ZoneAwareRoutingIT {
  static final List<TestBackend> zoneA = new ArrayList<>();
  static final List<TestBackend> zoneB = new ArrayList<>();
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static String hosts(List<TestBackend> backends, int from, int to, String zone) {
    StringBuilder b = new StringBuilder("- locality: {region: r, zone: " + zone + "}\n  lb_endpoints:\n");
    for (int i = from; i < to; i++) {
      b.append("  - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ")
          .append(backends.get(i).port()).append("}}}\n");
    }
    return b.toString();
  }

  static String cluster(String name, String endpoints) {
    return "- name: " + name + "\n  type: STATIC\n  lb_policy: ROUND_ROBIN\n  load_assignment:\n    cluster_name: "
        + name + "\n    endpoints:\n" + endpoints.indent(4);
  }

  @BeforeAll
  static void start() throws Exception {
    for (int i = 0; i < 4; i++) {
      zoneA.add(TestBackend.start());
      zoneB.add(TestBackend.start());
    }
    String clusters = cluster("local", hosts(zoneA, 0, 2, "a") + hosts(zoneB, 0, 2, "b"))
        + cluster("even", hosts(zoneA, 0, 3, "a") + hosts(zoneB, 0, 3, "b"))
        + cluster("thin", hosts(zoneA, 0, 2, "a") + hosts(zoneB, 0, 4, "b"))
        + cluster("small", hosts(zoneA, 0, 1, "a") + hosts(zoneB, 0, 1, "b"));
    String vhosts = """
        - name: all
          domains: ["*"]
          routes:
          - match: {prefix: "/even/"}
            route: {cluster: even}
          - match: {prefix: "/thin/"}
            route: {cluster: thin}
          - match: {prefix: "/small/"}
            route: {cluster: small}
        """;
    String yaml = "node: {id: n, cluster: c, locality: {region: r, zone: a}}\n"
        + "cluster_manager: {local_cluster_name: local}\n" + ProxyHarness.httpBootstrap(vhosts, clusters);
    proxy = ProxyHarness.start(yaml, new HashMap<>());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    zoneA.forEach(TestBackend::close);
    zoneB.forEach(TestBackend::close);
  }

  /** Sends {@code n} requests under {@code prefix}; returns how many reached zone a and zone b. */
  static int[] send(String prefix, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", prefix + i)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
    }
    int a = zoneA.stream().mapToInt(b -> b.requestsTo(prefix)).sum();
    int b = zoneB.stream().mapToInt(x -> x.requestsTo(prefix)).sum();
    return new int[] {a, b};
  }

  @Test
  void asMuchUpstreamCapacityInOurZoneAsOursKeepsEveryRequestInIt() throws Exception {
    int[] ab = send("/even/", 200);
    assertEquals(200, ab[0], "zone b got " + ab[1]);
    assertTrue(proxy.stat("cluster.even.lb_zone_routing_all_directly") >= 200);
  }

  @Test
  void lessCapacityInOurZoneKeepsItsShareAndSpillsTheRest() throws Exception {
    int[] ab = send("/thin/", 900);
    // a third of the upstream is in zone a, half of us: 2/3 of the requests stay, the rest cross to zone b
    assertTrue(ab[0] >= 540 && ab[0] <= 660, "zone a got " + ab[0] + " of 900 (600 expected)");
    assertTrue(proxy.stat("cluster.thin.lb_zone_routing_cross_zone") > 0);
    assertTrue(proxy.stat("cluster.thin.lb_zone_routing_sampled") > 0);
  }

  @Test
  void aClusterBelowMinClusterSizeIsBalancedOverEveryHost() throws Exception {
    int[] ab = send("/small/", 100);
    assertEquals(50, ab[0], "round robin over both hosts");
    assertTrue(proxy.stat("cluster.small.lb_zone_cluster_too_small") >= 100);
  }
}
