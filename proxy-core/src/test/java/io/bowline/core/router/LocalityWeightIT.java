package io.bowline.core.router;

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

/** common_lb_config.locality_weighted_lb_config, as every Istio cluster carries it: localities get their weight. */
@ExtendWith(LeakGuard.class)
class LocalityWeightIT {
  @Test
  void localityWeightsSplitTrafficBetweenLocalities() throws Exception {
    try (TestBackend east = TestBackend.start(); TestBackend west = TestBackend.start()) {
      String yaml = ProxyHarness.simpleHttp("",
          "common_lb_config: {locality_weighted_lb_config: {}, healthy_panic_threshold: {value: 40}}").replace(
          "endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]",
          "endpoints: [{locality: {zone: east}, load_balancing_weight: 3, lb_endpoints: [{endpoint: {address: "
              + "{socket_address: {address: 127.0.0.1, port_value: ${EAST}}}}}]}, {locality: {zone: west}, "
              + "load_balancing_weight: 1, lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
              + "port_value: ${WEST}}}}}]}]");
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("EAST", east.port(), "WEST", west.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 400; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/loc/" + i)).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        int toEast = east.requestsTo("/loc");
        assertEquals(400, toEast + west.requestsTo("/loc"));
        assertTrue(toEast >= 280 && toEast <= 320, "east has locality weight 3 of 4: " + toEast + "/400");
      }
    }
  }
}
