package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;

/** Sticky sessions, as Istio's DestinationRule consistentHash compiles: the same key always reaches the same host. */
@ExtendWith(LeakGuard.class)
class ConsistentHashIT {
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"RING_HASH", "MAGLEV"})
  void theSameKeyStaysOnOneHostAndKeysSpread(String policy) throws Exception {
    List<TestBackend> backends = List.of(TestBackend.start(), TestBackend.start(), TestBackend.start());
    try {
      String endpoints = "endpoints: [{lb_endpoints: [" + String.join(", ", backends.stream().map(b ->
          "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + b.port() + "}}}}").toList())
          + "]}]";
      String yaml = ProxyHarness.simpleHttp("", "lb_policy: " + policy)
          .replace("endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
              + "port_value: ${BACKEND}}}}}]}]", endpoints)
          .replace("route: {cluster: backend}", "route: {cluster: backend, hash_policy: [{header: {header_name: "
              + "x-user}}]}");
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of())) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 30; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/alice/" + i))
              .header("x-user", "alice").build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        long hostsForAlice = backends.stream().filter(b -> b.requestsTo("/alice") > 0).count();
        assertEquals(1, hostsForAlice, "one user, one host");
        for (int u = 0; u < 60; u++) {
          client.send(HttpRequest.newBuilder(proxy.uri("http", "/many/" + u)).header("x-user", "user-" + u).build(),
              HttpResponse.BodyHandlers.discarding());
        }
        long used = backends.stream().filter(b -> b.requestsTo("/many") > 0).count();
        assertTrue(used == 3, "60 users spread over the 3 hosts: " + used);
      }
    } finally {
      backends.forEach(TestBackend::close);
    }
  }
}
