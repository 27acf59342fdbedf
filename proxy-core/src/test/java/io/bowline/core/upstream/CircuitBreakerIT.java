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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Circuit breakers as Istio configures them: over max_requests, a request is answered 503 UO at once. */
@ExtendWith(LeakGuard.class)
class CircuitBreakerIT {
  static TestBackend backend;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", """
        circuit_breakers:
          thresholds:
          - {max_connections: 100, max_pending_requests: 100, max_requests: 2, max_retries: 0, track_remaining: true}
          - {priority: HIGH, max_requests: 1000}
        metadata: {filter_metadata: {istio: {default_original_port: 8080, services: [{host: svc.ns.svc.cluster.local, name: svc, namespace: ns}]}}}
        """), Map.of("BACKEND", backend.port()), "--concurrency", "1");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static long stat(String name) throws Exception {
    return proxy.stat(name);
  }

  @Test
  void overMaxRequestsTheAnswerIsAnImmediate503() throws Exception {
    assertEquals(2, stat("cluster.backend.circuit_breakers.default.remaining_rq"));
    long overflowBefore = stat("cluster.backend.upstream_rq_pending_overflow");
    int before = backend.requestsTo("/delay/600/cb");
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      calls.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("http", "/delay/600/cb")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    Thread.sleep(200); // the two are in flight
    assertEquals(1, stat("cluster.backend.circuit_breakers.default.rq_open"));
    long t0 = System.nanoTime();
    HttpResponse<String> over = client.send(HttpRequest.newBuilder(proxy.uri("http", "/delay/600/cb")).build(),
        HttpResponse.BodyHandlers.ofString());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(503, over.statusCode());
    assertEquals("true", over.headers().firstValue("x-envoy-overloaded").orElse(""));
    assertTrue(ms < 300, "answered at once, not queued: " + ms + " ms");
    for (var c : calls) {
      assertEquals(200, c.get().statusCode());
    }
    assertEquals(2, backend.requestsTo("/delay/600/cb") - before, "the upstream saw only the configured concurrency");
    assertEquals(overflowBefore + 1, stat("cluster.backend.upstream_rq_pending_overflow"));
    assertEquals(2, stat("cluster.backend.circuit_breakers.default.remaining_rq"), "released when they finished");
  }

  @Test
  void maxConnectionPoolsCapsThePoolsAClusterMakes() throws Exception {
    List<TestBackend> hosts = List.of(TestBackend.start(), TestBackend.start(), TestBackend.start());
    String endpoints = String.join(", ", hosts.stream().map(b -> "{endpoint: {address: {socket_address: {address: "
        + "127.0.0.1, port_value: " + b.port() + "}}}}").toList());
    String yaml = ProxyHarness.simpleHttp("", """
        lb_policy: ROUND_ROBIN
        circuit_breakers: {thresholds: [{max_connection_pools: 1, track_remaining: true}]}
        """).replace("endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
        + "port_value: ${BACKEND}}}}}]}]", "endpoints: [{lb_endpoints: [" + endpoints + "]}]");
    try (ProxyHarness p = ProxyHarness.start(yaml, Map.of(), "--concurrency", "1")) {
      int ok = 0;
      int overloaded = 0;
      for (int i = 0; i < 6; i++) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("http", "/pools/" + i)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          ok++;
        } else {
          assertEquals(503, r.statusCode());
          assertEquals("true", r.headers().firstValue("x-envoy-overloaded").orElse(""));
          overloaded++;
        }
      }
      // round robin over three hosts, one pool allowed: only the first host's requests get through
      assertEquals(2, ok);
      assertEquals(4, overloaded);
      assertEquals(4, p.stat("cluster.backend.upstream_cx_pool_overflow"));
      assertEquals(1, p.stat("cluster.backend.circuit_breakers.default.cx_pool_open"));
      assertEquals(0, p.stat("cluster.backend.circuit_breakers.default.remaining_cx_pools"));
    } finally {
      hosts.forEach(TestBackend::close);
    }
  }
}
