package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

/** Virtual clusters count their requests in {@code vhost.<vhost>.vcluster.<name>.*}; the rest go to "other". */
@ExtendWith(LeakGuard.class)
class VirtualClusterStatsIT {
  @Test
  void requestsAreCountedByVirtualCluster() throws Exception {
    try (TestBackend backend = TestBackend.start()) {
      String yaml = ProxyHarness.httpBootstrap("""
          - name: api
            domains: ["*"]
            routes: [{match: {prefix: "/"}, route: {cluster: backend}}]
            virtual_clusters:
            - name: item_reads
              headers:
              - {name: ":path", string_match: {safe_regex: {regex: "^/items/\\\\d+$"}}}
              - {name: ":method", string_match: {exact: GET}}
          """, ProxyHarness.staticCluster("backend", "${PORT}"));
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (String path : new String[] {"/items/1", "/items/22", "/items/x", "/status/404"}) {
          client.send(HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.discarding());
        }
        client.send(HttpRequest.newBuilder(proxy.uri("http", "/items/3")).timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(2, proxy.stat("vhost.api.vcluster.item_reads.upstream_rq_total"));
        assertEquals(2, proxy.stat("vhost.api.vcluster.item_reads.upstream_rq_2xx"));
        assertEquals(2, proxy.stat("vhost.api.vcluster.item_reads.upstream_rq_200"));
        assertEquals(3, proxy.stat("vhost.api.vcluster.other.upstream_rq_total"), "/items/x, the 404, the POST");
        assertEquals(1, proxy.stat("vhost.api.vcluster.other.upstream_rq_404"));
      }
    }
  }
}
