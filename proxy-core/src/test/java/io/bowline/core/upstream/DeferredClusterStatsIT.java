package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A cluster's traffic stats are made on its first request and shown as zeros until then: /stats and
 * /stats/prometheus list an idle cluster's as Envoy does, {@code ?usedonly} leaves them out, and the first request
 * counts in the same names.
 */
@ExtendWith(LeakGuard.class)
class DeferredClusterStatsIT {
  @Test
  void anIdleClustersTrafficStatsReadZeroUntilItsFirstRequest() throws Exception {
    try (TestBackend backend = TestBackend.start()) {
      String yaml = ProxyHarness.httpBootstrap("""
          - name: all
            domains: ["*"]
            routes:
            - {match: {prefix: "/idle"}, route: {cluster: idle}}
            - {match: {prefix: "/"}, route: {cluster: busy}}
          """, ProxyHarness.staticCluster("busy", "${PORT}") + ProxyHarness.staticCluster("idle", "${PORT}"));
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        client.send(HttpRequest.newBuilder(proxy.uri("http", "/")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.discarding());
        assertEquals(1, proxy.stat("cluster.busy.upstream_rq_total"));
        assertEquals(1, proxy.stat("cluster.busy.upstream_rq_2xx"));
        String text = proxy.admin("/stats");
        for (String name : new String[] {"upstream_rq_total", "upstream_rq_2xx", "upstream_cx_total",
            "upstream_cx_active", "upstream_rq_active", "upstream_cx_none_healthy", "membership_total"}) {
          assertTrue(text.contains("cluster.idle." + name + ": "), name + " in\n" + text);
        }
        assertEquals(0, proxy.stat("cluster.idle.upstream_rq_total"));
        assertEquals(1, proxy.stat("cluster.idle.membership_total"));
        assertTrue(text.contains("cluster.idle.upstream_rq_time: No recorded values"), text);
        String prometheus = proxy.admin("/stats/prometheus");
        assertTrue(prometheus.contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"idle\"} 0"), prometheus);
        assertTrue(prometheus.contains("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"idle\"} 0"),
            prometheus);
        String used = proxy.admin("/stats?usedonly");
        assertFalse(used.contains("cluster.idle.upstream_rq_total"), used);
        assertTrue(used.contains("cluster.busy.upstream_rq_total: 1"), used);

        client.send(HttpRequest.newBuilder(proxy.uri("http", "/idle")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.discarding());
        assertEquals(1, proxy.stat("cluster.idle.upstream_rq_total"));
        assertEquals(1, proxy.stat("cluster.idle.upstream_rq_2xx"));
        assertEquals(1, proxy.stat("cluster.idle.upstream_rq_200"));
        String after = proxy.admin("/stats");
        assertEquals(1, after.lines().filter(l -> l.startsWith("cluster.idle.upstream_rq_total:")).count(), after);
        assertEquals(1, after.lines().filter(l -> l.startsWith("cluster.idle.upstream_rq_time:")).count(), after);
        assertFalse(after.contains("cluster.idle.upstream_rq_time: No recorded values"), "made: the real one");
        assertTrue(proxy.admin("/stats?usedonly").contains("cluster.idle.upstream_rq_total: 1"));
      }
    }
  }
}
