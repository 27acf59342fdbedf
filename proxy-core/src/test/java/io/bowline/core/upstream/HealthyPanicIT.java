package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * {@code lb_healthy_panic}: with fewer healthy hosts than {@code healthy_panic_threshold} (50 % by default) a
 * priority uses all its hosts, and every request balanced so is counted; above it the unhealthy hosts get nothing
 * and nothing is counted.
 */
@ExtendWith(LeakGuard.class)
class HealthyPanicIT {
  private static String cluster(String name, String healthStatusOfB) {
    return """
        - name: NAME
          type: STATIC
          load_assignment:
            cluster_name: NAME
            endpoints:
            - lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${A}}}}
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${B}}}}
                health_status: STATUS
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${C}}}}
                health_status: UNHEALTHY
        """.replace("NAME", name).replace("STATUS", healthStatusOfB);
  }

  @Test
  void aPriorityInPanicUsesEveryHostAndCountsEachPick() throws Exception {
    try (TestBackend a = TestBackend.start(); TestBackend b = TestBackend.start(); TestBackend c = TestBackend.start()) {
      String base = ProxyHarness.simpleHttp("", "").stripTrailing() + "\n"
          + (cluster("panicking", "UNHEALTHY") + cluster("calm", "HEALTHY")).indent(2);
      String route = "- match: {prefix: \"/\"}";
      int at = base.indexOf(route);
      String indent = " ".repeat(at - base.lastIndexOf('\n', at) - 1);
      String yaml = base.replace("route: {cluster: backend}", "route: {cluster: panicking}")
          .replace(route, "- {match: {prefix: \"/calm/\"}, route: {cluster: calm}}\n" + indent + route);
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("BACKEND", a.port(), "A", a.port(), "B", b.port(),
          "C", c.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 60; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/p/" + i)).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode());
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/calm/" + i)).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        assertEquals(60, proxy.stat("cluster.panicking.lb_healthy_panic"), "one healthy host of three: panic");
        assertTrue(c.requestsTo("/p/") > 0 && b.requestsTo("/p/") > 0, "in panic the unhealthy hosts take requests");
        assertEquals(0, proxy.stat("cluster.calm.lb_healthy_panic"), "two of three healthy: no panic");
        assertEquals(0, c.requestsTo("/calm/"));
      }
    }
  }
}
