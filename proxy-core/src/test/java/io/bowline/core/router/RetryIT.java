package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.TestBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Route retry policies with Envoy's semantics against scripted upstreams: a host that answers 503 to everything, a
 * port nobody listens on, a slow host; Istio's default policy (connect-failure, refused-stream, 503, previous
 * hosts); body replay; per-try timeouts; the retry limit; and the stats.
 */
@ExtendWith(LeakGuard.class)
class RetryIT {
  static TestBackend good;
  static ScriptedBackend failing;
  static final AtomicInteger failingHits = new AtomicInteger();
  static int deadPort;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    good = TestBackend.start();
    failing = ScriptedBackend.start(req -> {
      failingHits.incrementAndGet();
      return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SERVICE_UNAVAILABLE,
          Unpooled.copiedBuffer("busy", StandardCharsets.US_ASCII));
    });
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    int failingPort = failing.port();
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  use_remote_address: true # loopback clients are internal: their x-envoy-* controls count
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/five"}
                        route:
                          cluster: flaky
                          retry_policy: {retry_on: 5xx, num_retries: 2, retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts, typed_config: {"@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}}], host_selection_retry_max_attempts: 5}
                      - match: {prefix: "/istio"}
                        route:
                          cluster: half-dead
                          retry_policy: {retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", num_retries: 2, retriable_status_codes: [503], retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], host_selection_retry_max_attempts: 5}
                      - match: {prefix: "/none"}
                        route: {cluster: flaky}
                      - match: {prefix: "/always"}
                        route: {cluster: failing, retry_policy: {retry_on: gateway-error, num_retries: 2, retry_back_off: {base_interval: 0.001s}}}
                      - match: {prefix: "/slow/"}
                        route: {cluster: good, prefix_rewrite: "/", timeout: 5s, retry_policy: {retry_on: 5xx, num_retries: 1, per_try_timeout: 0.2s}}
                      - match: {prefix: "/hdr/"}
                        route: {cluster: flaky, retry_policy: {retry_on: retriable-headers, num_retries: 2, retriable_headers: [{name: content-length, string_match: {exact: "4"}}], retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], host_selection_retry_max_attempts: 5}}
                      - match: {prefix: "/opt-in/"}
                        route: {cluster: flaky, retry_policy: {retry_on: 5xx, num_retries: 2, retriable_request_headers: [{name: x-retry-ok, present_match: true}], retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], host_selection_retry_max_attempts: 5}}
                      - match: {prefix: "/outlier/"}
                        route: {cluster: outlier}
                      - match: {prefix: "/plain/"}
                        route: {cluster: good, prefix_rewrite: "/", timeout: 5s}
                      - match: {prefix: "/replay/"}
                        route: {cluster: flaky, prefix_rewrite: "/echo/", retry_policy: {retry_on: 5xx, num_retries: 2, retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], host_selection_retry_max_attempts: 5}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: flaky
            type: STATIC
            load_assignment: {cluster_name: flaky, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${FAILING}}}}}, {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${GOOD}}}}}]}]}
          - name: half-dead
            type: STATIC
            connect_timeout: 1s
            load_assignment: {cluster_name: half-dead, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${DEAD}}}}}, {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${GOOD}}}}}]}]}
          - name: failing
            type: STATIC
            load_assignment: {cluster_name: failing, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${FAILING}}}}}]}]}
          - name: outlier
            type: STATIC
            outlier_detection: {consecutive_5xx: 3, interval: 0.5s, base_ejection_time: 2s, max_ejection_percent: 50, enforcing_success_rate: 0}
            load_assignment: {cluster_name: outlier, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${FAILING}}}}}, {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${GOOD}}}}}]}]}
          - name: good
            type: STATIC
            load_assignment: {cluster_name: good, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${GOOD}}}}}]}]}
        """;
    proxy = ProxyHarness.start(yaml, Map.of("FAILING", failingPort, "GOOD", good.port(), "DEAD", deadPort));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    failing.close();
    good.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(proxy.uri("http", path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static long stat(String name) throws Exception {
    return Math.max(0, proxy.stat(name));
  }

  @Test
  void fiveXxGoesToAnotherHost() throws Exception {
    long retriesBefore = stat("cluster.flaky.upstream_rq_retry");
    int failingBefore = failingHits.get();
    for (int i = 0; i < 50; i++) {
      assertEquals(200, get("/five/" + i).statusCode(), "request " + i);
    }
    long retries = stat("cluster.flaky.upstream_rq_retry") - retriesBefore;
    int failed = failingHits.get() - failingBefore;
    assertTrue(failed >= 10, "round robin sent some first attempts to the failing host: " + failed);
    assertEquals(failed, retries, "every 503 was retried, once (previous_hosts chose the other host)");
    assertTrue(stat("cluster.flaky.upstream_rq_retry_success") >= retries);
  }

  @Test
  void withoutAPolicyNothingIsRetried() throws Exception {
    int fails = 0;
    for (int i = 0; i < 20; i++) {
      if (get("/none/" + i).statusCode() == 503) {
        fails++;
      }
    }
    assertTrue(fails >= 5, "half the requests meet the failing host: " + fails);
  }

  @Test
  void istioDefaultPolicyHidesADeadEndpoint() throws Exception {
    for (int i = 0; i < 30; i++) {
      assertEquals(200, get("/istio/" + i).statusCode(), "request " + i);
    }
    assertTrue(stat("cluster.half-dead.upstream_rq_retry") >= 5);
  }

  @Test
  void aRequestBodyIsSentAgain() throws Exception {
    String body = "x".repeat(100_000);
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/replay/" + i))
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertTrue(body.equals(r.body()), "the body came back whole, " + r.body().length() + " bytes");
    }
  }

  @Test
  void theLastResponseIsForwardedWhenRetriesRunOut() throws Exception {
    int before = failingHits.get();
    long exceeded = stat("cluster.failing.upstream_rq_retry_limit_exceeded");
    HttpResponse<String> r = get("/always");
    assertEquals(503, r.statusCode());
    assertEquals("busy", r.body());
    assertEquals(3, failingHits.get() - before, "one attempt and two retries");
    assertEquals(exceeded + 1, stat("cluster.failing.upstream_rq_retry_limit_exceeded"));
  }

  @Test
  void retryHeadersAskForRetriesWhereTheRouteHasNone() throws Exception {
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/none/h" + i))
          .header("x-envoy-retry-on", "5xx").header("x-envoy-max-retries", "3").build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), "request " + i);
    }
  }

  @Test
  void timeoutHeaderOverridesTheRouteTimeout() throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/plain/delay/2000"))
        .header("x-envoy-upstream-rq-timeout-ms", "200").build(), HttpResponse.BodyHandlers.ofString());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(504, r.statusCode());
    assertTrue(ms >= 190 && ms < 1500, "timed out after the header's 200 ms, not the route's 5 s: " + ms);
    HttpResponse<String> echo = client.send(HttpRequest.newBuilder(proxy.uri("http", "/plain/echo/t"))
        .header("x-envoy-upstream-rq-timeout-ms", "3000").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("3000", echo.headers().firstValue("x-echo-h-x-envoy-expected-rq-timeout-ms").orElse(""));
    assertTrue(echo.headers().firstValue("x-echo-h-x-envoy-upstream-rq-timeout-ms").isEmpty(), "consumed");
    assertEquals("true", echo.headers().firstValue("x-echo-h-x-envoy-internal").orElse(""));
  }

  @Test
  void anExternalClientsControlHeadersAreStripped() throws Exception {
    // x-forwarded-for present before this hop: the request is external (Envoy's rule), so its x-envoy-* controls go
    long t0 = System.nanoTime();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/plain/delay/600"))
        .header("x-forwarded-for", "203.0.113.7").header("x-envoy-upstream-rq-timeout-ms", "100")
        .header("x-envoy-internal", "true").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), "the 100 ms timeout an external client asked for is ignored");
    assertTrue((System.nanoTime() - t0) / 1_000_000 >= 550);
    HttpResponse<String> echo = client.send(HttpRequest.newBuilder(proxy.uri("http", "/plain/echo/x"))
        .header("x-forwarded-for", "203.0.113.7").header("x-envoy-retry-on", "5xx")
        .header("x-envoy-internal", "true").header("x-envoy-downstream-service-node", "spoofed").build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(echo.headers().firstValue("x-echo-h-x-envoy-internal").isEmpty(), "x-envoy-internal is not trusted");
    assertTrue(echo.headers().firstValue("x-echo-h-x-envoy-retry-on").isEmpty());
    assertTrue(echo.headers().firstValue("x-echo-h-x-envoy-downstream-service-node").isEmpty(), "edge-only header");
    assertEquals("5000", echo.headers().firstValue("x-echo-h-x-envoy-expected-rq-timeout-ms").orElse(""),
        "the route's own timeout");
  }

  @Test
  void outlierDetectionEjectsTheFailingHostAndLetsItBack() throws Exception {
    int fails = 0;
    for (int i = 0; i < 12 && proxy.stat("cluster.outlier.outlier_detection.ejections_active") < 1; i++) {
      if (get("/outlier/warm" + i).statusCode() == 503) {
        fails++;
      }
    }
    assertEquals(3, fails, "three consecutive 5xx from the failing host, then it is ejected");
    assertEquals(1, stat("cluster.outlier.outlier_detection.ejections_enforced_consecutive_5xx"));
    assertEquals(1, stat("cluster.outlier.outlier_detection.ejections_active"));
    int before = failingHits.get();
    for (int i = 0; i < 20; i++) {
      assertEquals(200, get("/outlier/ejected" + i).statusCode(), "the ejected host gets no traffic");
    }
    assertEquals(before, failingHits.get());
    Thread.sleep(2700); // base_ejection_time 2 s, checked every 0.5 s
    assertEquals(0, stat("cluster.outlier.outlier_detection.ejections_active"));
    for (int i = 0; i < 6; i++) {
      get("/outlier/back" + i);
    }
    assertTrue(failingHits.get() > before, "the host is back after its ejection time");
  }

  @Test
  void retriableHeadersAndRequestHeaders() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertEquals(200, get("/hdr/" + i).statusCode(), "a response matching retriable_headers is retried");
    }
    int notRetried = 0;
    for (int i = 0; i < 20; i++) {
      if (get("/opt-in/" + i).statusCode() == 503) {
        notRetried++;
      }
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/opt-in/yes" + i))
          .header("x-retry-ok", "1").build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), "a request matching retriable_request_headers is retried");
    }
    assertTrue(notRetried >= 5, "requests without the header are not retried: " + notRetried);
  }

  @Test
  void perTryTimeoutEndsEachAttempt() throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = get("/slow/delay/1000");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(504, r.statusCode());
    assertTrue(ms >= 350 && ms < 1000, "two attempts of 200 ms, not the 5 s route timeout: " + ms);
    assertTrue(stat("cluster.good.upstream_rq_per_try_timeout") >= 2);
    assertEquals(200, get("/slow/delay/10").statusCode());
  }
}
