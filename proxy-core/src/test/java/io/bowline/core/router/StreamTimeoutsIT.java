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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stream lifetime limits as Envoy applies them: the route's {@code max_stream_duration}, Istio's route shape that lets a
 * request's {@code grpc-timeout} header set the limit ({@code grpc_timeout_header_max: 0s}), the header's cap and
 * offset, the connection manager's {@code max_stream_duration} and a route turning it off, and a route's
 * {@code idle_timeout} over the connection manager's stream_idle_timeout.
 */
@ExtendWith(LeakGuard.class)
class StreamTimeoutsIT {
  static TestBackend backend;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    String hcm = """
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  stream_idle_timeout: 0s
                  common_http_protocol_options: {%s}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/capped/"}
                        route: {cluster: backend, prefix_rewrite: "/", max_stream_duration: {max_stream_duration: 0.3s}}
                      - match: {prefix: "/istio/"}
                        route: {cluster: backend, prefix_rewrite: "/", timeout: 0s, max_stream_duration: {max_stream_duration: 0s, grpc_timeout_header_max: 0s}}
                      - match: {prefix: "/grpc-max/"}
                        route: {cluster: backend, prefix_rewrite: "/", max_stream_duration: {grpc_timeout_header_max: 0.2s}}
                      - match: {prefix: "/grpc-offset/"}
                        route: {cluster: backend, prefix_rewrite: "/", max_stream_duration: {grpc_timeout_header_max: 0s, grpc_timeout_header_offset: 0.4s}}
                      - match: {prefix: "/old-istio/"}
                        route: {cluster: backend, prefix_rewrite: "/", timeout: 0s, max_grpc_timeout: 0s}
                      - match: {prefix: "/old-capped/"}
                        route: {cluster: backend, prefix_rewrite: "/", timeout: 0s, max_grpc_timeout: 0.2s}
                      - match: {prefix: "/old-offset/"}
                        route: {cluster: backend, prefix_rewrite: "/", timeout: 0s, max_grpc_timeout: 0s, grpc_timeout_offset: 0.5s}
                      - match: {prefix: "/idle/"}
                        route: {cluster: backend, prefix_rewrite: "/", idle_timeout: 1s}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: routes
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
        """ + hcm.formatted("routes", "") + """
          - name: hcm
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
        """ + hcm.formatted("hcm", "max_stream_duration: 0.3s") + """
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  record Timed(HttpResponse<String> response, long ms) {}

  static Timed get(String listener, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri(listener, path)).timeout(java.time.Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    long t0 = System.nanoTime();
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Timed(r, (System.nanoTime() - t0) / 1_000_000);
  }

  static void assertDurationTimeout(Timed t, long atLeastMs, long belowMs) {
    assertEquals(408, t.response().statusCode(), t.response().body());
    assertEquals("downstream duration timeout", t.response().body());
    assertTrue(t.ms() >= atLeastMs && t.ms() < belowMs, "answered after " + t.ms() + " ms");
  }

  @Test
  void theRoutesLimitEndsASlowStreamWith408() throws Exception {
    long before = Math.max(0, proxy.stat("http.routes.downstream_rq_max_duration_reached"));
    assertDurationTimeout(get("routes", "/capped/delay/3000"), 250, 2000);
    assertEquals(before + 1, proxy.stat("http.routes.downstream_rq_max_duration_reached"));
    assertEquals(200, get("routes", "/capped/delay/50").response().statusCode());
  }

  @Test
  void istiosRouteShapeLetsGrpcTimeoutSetTheLimit() throws Exception {
    assertEquals(200, get("routes", "/istio/delay/600").response().statusCode(), "no header: no limit");
    assertDurationTimeout(get("routes", "/istio/delay/3000", "grpc-timeout", "200m"), 150, 2000);
    assertEquals(200, get("routes", "/istio/delay/50", "grpc-timeout", "2S").response().statusCode());
    assertEquals(200, get("routes", "/istio/delay/300", "grpc-timeout", "bogus").response().statusCode(),
        "a malformed header has no effect");
    Timed grpc = get("routes", "/istio/delay/3000", "grpc-timeout", "200000u", "content-type", "application/grpc");
    assertEquals(200, grpc.response().statusCode(), "gRPC local replies are trailers-only");
    assertEquals("4", grpc.response().headers().firstValue("grpc-status").orElse(""), "DEADLINE_EXCEEDED");
    assertEquals("downstream duration timeout", grpc.response().headers().firstValue("grpc-message").orElse(""));
  }

  @Test
  void theHeaderIsCappedAndOffset() throws Exception {
    assertDurationTimeout(get("routes", "/grpc-max/delay/3000", "grpc-timeout", "10S"), 150, 2000);
    assertEquals(200, get("routes", "/grpc-max/delay/600").response().statusCode(), "no header: no limit");
    assertDurationTimeout(get("routes", "/grpc-offset/delay/3000", "grpc-timeout", "700m"), 250, 650);
  }

  @Test
  void maxGrpcTimeoutMakesTheHeaderTheRouteTimeoutOfGrpcRequests() throws Exception {
    String[] grpc = {"content-type", "application/grpc"};
    assertEquals(200, get("routes", "/old-istio/delay/600", "grpc-timeout", "100m").response().statusCode(),
        "not a gRPC request: the route's timeout (none)");
    Timed t = get("routes", "/old-istio/delay/3000", "grpc-timeout", "200m", grpc[0], grpc[1]);
    assertEquals("14", t.response().headers().firstValue("grpc-status").orElse(""), "504 UT as gRPC UNAVAILABLE");
    assertTrue(t.ms() >= 150 && t.ms() < 2000, "answered after " + t.ms() + " ms");
    Timed none = get("routes", "/old-istio/delay/600", grpc[0], grpc[1]);
    assertEquals("", none.response().headers().firstValue("grpc-status").orElse(""), "no header, no cap: no timeout");
    Timed capped = get("routes", "/old-capped/delay/3000", grpc[0], grpc[1]);
    assertEquals("14", capped.response().headers().firstValue("grpc-status").orElse(""));
    assertTrue(capped.ms() >= 150 && capped.ms() < 2000, "capped at 200 ms: " + capped.ms() + " ms");
    Timed offset = get("routes", "/old-offset/delay/3000", "grpc-timeout", "800m", grpc[0], grpc[1]);
    assertTrue(offset.ms() >= 250 && offset.ms() < 750, "800 ms less the 500 ms offset: " + offset.ms() + " ms");
  }

  @Test
  void theConnectionManagersLimitAppliesUnlessTheRouteTurnsItOff() throws Exception {
    assertDurationTimeout(get("hcm", "/delay/3000"), 250, 2000);
    assertEquals(200, get("hcm", "/istio/delay/600").response().statusCode(), "max_stream_duration: 0s is none");
    assertDurationTimeout(get("hcm", "/capped/delay/3000"), 250, 2000);
  }

  @Test
  void aRoutesIdleTimeoutAppliesWhereTheConnectionManagerHasNone() throws Exception {
    Timed t = get("routes", "/idle/delay/4000");
    assertEquals(408, t.response().statusCode());
    assertEquals("stream timeout", t.response().body());
    assertTrue(t.ms() >= 900 && t.ms() < 3500, "answered after " + t.ms() + " ms");
    assertEquals(200, get("routes", "/delay/1500").response().statusCode(), "the HCM's stream_idle_timeout is off");
  }
}
