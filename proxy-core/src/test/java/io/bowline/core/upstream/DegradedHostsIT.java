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
 * An endpoint EDS calls DEGRADED takes only the load its priority's healthy hosts cannot: with one healthy and one
 * degraded host, the healthy one's health is 50% × 1.4 = 70%, so it takes 70% of requests and the degraded one the
 * other 30% (round robin would split them evenly). The membership gauges and the admin's health flags say so.
 */
@ExtendWith(LeakGuard.class)
class DegradedHostsIT {
  @Test
  void aDegradedHostTakesOnlyTheSpillover() throws Exception {
    try (TestBackend healthy = TestBackend.start(); TestBackend degraded = TestBackend.start()) {
      String yaml = ProxyHarness.simpleHttp("", "").replace(
          "endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]",
          "endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${A}}}}}, "
              + "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${B}}}}, health_status: DEGRADED}]}]");
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("A", healthy.port(), "B", degraded.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 200; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/d/" + i)).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        int toHealthy = healthy.requestsTo("/d/");
        assertEquals(200, toHealthy + degraded.requestsTo("/d/"));
        assertTrue(toHealthy >= 115 && toHealthy <= 165, "70% expected to the healthy host: " + toHealthy + "/200");
        assertEquals(1, proxy.stat("cluster.backend.membership_healthy"));
        assertEquals(1, proxy.stat("cluster.backend.membership_degraded"));
        assertEquals(0, proxy.stat("cluster.backend.membership_excluded"));
        assertEquals(2, proxy.stat("cluster.backend.membership_total"));
        assertEquals(0, proxy.stat("cluster.backend.lb_healthy_panic"));
        assertTrue(proxy.admin("/clusters").contains("backend::127.0.0.1:" + degraded.port()
            + "::health_flags::/degraded_eds_health"), proxy.admin("/clusters"));
      }
    }
  }
}
