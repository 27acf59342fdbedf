package io.bowline.core.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * /stats/prometheus, /stats and /stats?format=json stream in chunks: a store of many clusters arrives whole, on a
 * connection that stays open for the next request, and the admin's other pages still answer on it.
 */
@ExtendWith(LeakGuard.class)
class StatsStreamIT {
  @Test
  void manyClustersStreamWholeOnAKeptConnection() throws Exception {
    StringBuilder clusters = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      clusters.append("  - {name: \"outbound|80||svc-").append(i).append(".ns.svc.cluster.local\", type: STATIC, ")
          .append("load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: ")
          .append("{socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}}\n");
    }
    String yaml = ProxyHarness.simpleHttp("", "").stripTrailing() + "\n" + clusters;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("BACKEND", backend.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (int round = 0; round < 2; round++) { // the same kept-alive connection the second time
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.adminUri("/stats/prometheus")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("chunked", r.headers().firstValue("transfer-encoding").orElse(""));
        String body = r.body();
        assertTrue(body.length() > 4 * 64 * 1024, "several chunks: " + body.length());
        for (int i = 0; i < 300; i += 37) {
          assertTrue(body.contains("envoy_cluster_upstream_cx_total{envoy_cluster_name=\"outbound|80||svc-" + i
              + ".ns.svc.cluster.local\"} 0"), "cluster " + i);
        }
        assertEquals(1, body.split("# TYPE envoy_cluster_upstream_cx_total counter\n", -1).length - 1);
        assertTrue(body.contains("envoy_server_live 1"), "the server's own stats too");

        HttpResponse<String> text = client.send(HttpRequest.newBuilder(proxy.adminUri("/stats")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals("chunked", text.headers().firstValue("transfer-encoding").orElse(""));
        assertTrue(text.body().length() > 64 * 1024, "several chunks: " + text.body().length());
        java.util.List<String> lines = text.body().lines().toList();
        assertTrue(lines.contains("cluster.outbound|80||svc-299.ns.svc.cluster.local.upstream_cx_total: 0"));
        assertTrue(lines.contains("server.live: 1"));
        java.util.List<String> names = lines.stream().filter(l -> !l.contains(": P0(") && !l.endsWith(
            ": No recorded values")).map(l -> l.substring(0, l.lastIndexOf(": "))).toList();
        assertEquals(names.stream().sorted().toList(), names, "counters and gauges in name order");

        HttpResponse<String> json = client.send(HttpRequest.newBuilder(proxy.adminUri("/stats?format=json"))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("application/json", json.headers().firstValue("content-type").orElse(""));
        var stats = com.google.gson.JsonParser.parseString(json.body()).getAsJsonObject().getAsJsonArray("stats");
        long named = 0;
        for (var e : stats) {
          named += e.getAsJsonObject().has("name") ? 1 : 0;
        }
        assertEquals(names.size(), named, "the same counters and gauges as the text");
        assertTrue(stats.get(stats.size() - 1).getAsJsonObject().has("histograms"), "then Envoy's histograms element");
      }
      assertEquals(400, client.send(HttpRequest.newBuilder(proxy.adminUri("/stats?filter=%5B")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode(), "a filter that is no regex");
      // Envoy's ?type=: one kind of stat; an unknown type or format is a 400 that says what is allowed
      String counters = proxy.admin("/stats?type=Counters&filter=%5Ecluster%5C.backend%5C.upstream_rq_");
      assertTrue(counters.contains("cluster.backend.upstream_rq_total: "), counters);
      assertFalse(counters.contains("cluster.backend.upstream_rq_active: "), "a gauge: " + counters);
      String gauges = proxy.admin("/stats?type=Gauges&filter=%5Ecluster%5C.backend%5C.upstream_rq_");
      assertTrue(gauges.contains("cluster.backend.upstream_rq_active: "), gauges);
      assertFalse(gauges.contains("cluster.backend.upstream_rq_total: "), "a counter: " + gauges);
      assertFalse(gauges.contains("upstream_rq_time"), "no histograms among gauges");
      String promCounters = proxy.admin("/stats/prometheus?type=Counters");
      assertTrue(promCounters.contains(" counter\n"), promCounters.substring(0, Math.min(300, promCounters.length())));
      assertFalse(promCounters.contains(" gauge\n") || promCounters.contains(" histogram\n"), "counters only");
      for (String bad : new String[] {"/stats?type=Everything", "/stats?format=xml"}) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.adminUri(bad)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode(), bad);
        assertTrue(r.body().contains("type") || r.body().startsWith("usage"), r.body());
      }
      assertEquals(200, client.send(HttpRequest.newBuilder(proxy.adminUri("/ready")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }
}
