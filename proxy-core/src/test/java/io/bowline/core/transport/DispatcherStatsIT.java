package io.bowline.core.transport;

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
 * Envoy's dispatcher stats: with {@code enable_dispatcher_stats} every worker loop records how long its iterations
 * worked and how late its timed polls woke, under {@code listener_manager.worker_<n>.dispatcher.}, tagged by worker in
 * Prometheus' output; without it there are none.
 */
@ExtendWith(LeakGuard.class)
class DispatcherStatsIT {
  @Test
  void workerLoopsRecordLoopDurationAndPollDelay() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start("enable_dispatcher_stats: true\n" + ProxyHarness.simpleHttp("", ""),
            Map.of("BACKEND", backend.port()), "--concurrency", "2")) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (int i = 0; i < 20; i++) {
        client.send(HttpRequest.newBuilder(proxy.uri("http", "/x")).build(), HttpResponse.BodyHandlers.discarding());
      }
      Thread.sleep(1300); // an idle loop's poll times out within a second: a timed wake-up to measure
      String prom = proxy.admin("/stats/prometheus");
      for (String worker : new String[] {"worker_0", "worker_1"}) {
        assertTrue(count(prom, "envoy_listener_manager_dispatcher_loop_duration_us_count", worker) > 0, prom);
        assertTrue(count(prom, "envoy_listener_manager_dispatcher_poll_delay_us_count", worker) > 0, prom);
      }
      assertTrue(proxy.admin("/stats").contains("listener_manager.worker_0.dispatcher.loop_duration_us"));
      // Envoy's ?filter= and ?usedonly on the Prometheus output too
      String filtered = proxy.admin("/stats/prometheus?filter=dispatcher");
      assertTrue(filtered.contains("envoy_listener_manager_dispatcher_poll_delay_us_count"), filtered);
      assertFalse(filtered.contains("envoy_cluster_"), filtered);
      assertTrue(prom.contains("envoy_cluster_upstream_rq_timeout{"), "an unused stat, shown as 0");
      assertFalse(proxy.admin("/stats/prometheus?usedonly").contains("envoy_cluster_upstream_rq_timeout{"));
      String text = proxy.admin("/stats?filter=worker_1%5C.dispatcher");
      assertTrue(text.lines().allMatch(l -> l.startsWith("listener_manager.worker_1.dispatcher.")), text);
      assertTrue(text.contains("listener_manager.worker_1.dispatcher.poll_delay_us: "), text);
      String json = proxy.admin("/stats?format=json&filter=cluster.backend.upstream_rq_timeout");
      assertTrue(json.contains("\"cluster.backend.upstream_rq_timeout\"") && !json.contains("server."), json);
    }
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()))) {
      assertFalse(proxy.admin("/stats").contains("dispatcher"), "off by default, as in Envoy");
    }
  }

  private static double count(String prom, String metric, String worker) {
    for (String line : prom.split("\n")) {
      if (line.startsWith(metric + "{") && line.contains("envoy_worker_id=\"" + worker + "\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }
}
