package io.bowline.core.upstream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.XdsResources;
import io.bowline.core.testing.XdsTestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A cluster CDS removes takes its stats with it, as in Envoy: {@code /stats} no longer shows them (a mesh whose
 * services come and go would otherwise keep every one's tables), a cluster whose name extends the removed one's keeps
 * its own, an updated cluster keeps its counts, and a cluster added again starts from zero.
 */
@ExtendWith(LeakGuard.class)
class RemovedClusterStatsIT {
  @Test
  void aRemovedClustersStatsGoAndComeBackAtZero() throws Exception {
    try (TestBackend backend = TestBackend.start();
        XdsTestServer xds = XdsTestServer.tcp();
        ProxyHarness proxy = ProxyHarness.start(xds.bootstrap("DELTA_GRPC"), Map.of())) {
      List<String> both = List.of(XdsResources.edsCluster("svc"), XdsResources.edsCluster("svc.v2"));
      List<String> endpoints = List.of(XdsResources.endpoints("svc", backend.port()),
          XdsResources.endpoints("svc.v2", backend.port()));
      String routes = XdsResources.routes("/v2", "svc.v2", "/", "svc");
      xds.set("1", both, endpoints, List.of(XdsResources.listener("in")), List.of(routes));
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String path : new String[] {"/a", "/a", "/v2/a"}) {
        assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", path)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode());
      }
      assertEquals(2, proxy.stat("cluster.svc.upstream_rq_total"));
      assertEquals(1, proxy.stat("cluster.svc.v2.upstream_rq_total"));

      // svc goes; svc.v2, whose name starts with svc's, stays with its counts
      xds.set("2", List.of(XdsResources.edsCluster("svc.v2")), List.of(XdsResources.endpoints("svc.v2",
          backend.port())), List.of(XdsResources.listener("in")), List.of(XdsResources.routes("/", "svc.v2")));
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.stat("cluster.svc.upstream_rq_total") == -1);
      String stats = proxy.admin("/stats");
      assertFalse(stats.lines().anyMatch(l -> l.startsWith("cluster.svc.") && !l.startsWith("cluster.svc.v2.")),
          "no stat of the removed cluster is left: " + stats);
      assertEquals(1, proxy.stat("cluster.svc.v2.upstream_rq_total"));
      assertFalse(proxy.admin("/stats/prometheus").contains("envoy_cluster_name=\"svc\""));

      // svc comes back: its stats start from zero
      xds.set("3", both, endpoints, List.of(XdsResources.listener("in")), List.of(routes));
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.stat("cluster.svc.upstream_rq_total") == 0);
      assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/b")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());
      assertEquals(1, proxy.stat("cluster.svc.upstream_rq_total"));
      assertTrue(proxy.stat("cluster.svc.v2.upstream_rq_total") >= 1);
    }
  }
}
