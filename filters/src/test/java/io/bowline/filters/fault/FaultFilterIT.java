package io.bowline.filters.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fault filter as Istio configures it: present (empty) in every connection manager, with the faults of a
 * VirtualService in the routes' typed_per_filter_config; plus header-controlled faults.
 */
@ExtendWith(LeakGuard.class)
class FaultFilterIT {
  static TestBackend backend;
  static ProxyHarness proxy;
  static java.nio.file.Path accessLog;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
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
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: ${ACCESS_LOG}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/abort-all"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            abort: {http_status: 418, percentage: {numerator: 100, denominator: HUNDRED}}
                      - match: {prefix: "/abort-half"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            abort: {http_status: 503, percentage: {numerator: 5000, denominator: TEN_THOUSAND}}
                      - match: {prefix: "/delay"}
                        route: {cluster: backend, prefix_rewrite: "/echo"}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            delay: {fixed_delay: 0.3s, percentage: {numerator: 100}}
                      - match: {prefix: "/grpc-abort"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig
                            config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                              abort: {grpc_status: 14, percentage: {numerator: 100}}
                      - match: {prefix: "/paced"}
                        route: {cluster: backend, prefix_rewrite: "/size"}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            response_rate_limit: {fixed_limit: {limit_kbps: 64}, percentage: {numerator: 100}}
                      - match: {prefix: "/size"}
                        route: {cluster: backend}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.fault
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                      abort: {header_abort: {}, percentage: {numerator: 100}}
                      delay: {header_delay: {}, percentage: {numerator: 100}}
                      response_rate_limit: {header_limit: {}, percentage: {numerator: 100}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
        """;
    accessLog = java.nio.file.Files.createTempFile("bowline-fault", ".log");
    proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("BACKEND", backend.port(), "ACCESS_LOG",
        accessLog));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static long stat(String name) throws Exception {
    return proxy.stat(name);
  }

  @Test
  void routeAbortAnswersWithoutTheUpstream() throws Exception {
    int before = backend.requestsTo("/abort-all");
    HttpResponse<String> r = get("/abort-all/x");
    assertEquals(418, r.statusCode());
    assertEquals("fault filter abort", r.body());
    assertEquals(before, backend.requestsTo("/abort-all"), "the upstream never saw it");
    assertTrue(stat("fault.ingress.aborts_injected") >= 1);
  }

  @Test
  void percentageAbortHitsAboutThatShare() throws Exception {
    int aborted = 0;
    for (int i = 0; i < 400; i++) {
      if (get("/abort-half/" + i).statusCode() == 503) {
        aborted++;
      }
    }
    assertTrue(aborted > 140 && aborted < 260, "about half of 400 aborted: " + aborted);
  }

  @Test
  void routeDelayHoldsTheRequest() throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = get("/delay/one");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, r.statusCode());
    assertTrue(ms >= 290, "delayed " + ms + " ms");
    assertTrue(stat("fault.ingress.delays_injected") >= 1);
  }

  @Test
  void grpcAbortIsTrailersOnlyWithTheStatus() throws Exception {
    HttpResponse<String> r = get("/grpc-abort/svc/Method", "content-type", "application/grpc");
    assertEquals(200, r.statusCode());
    assertEquals("14", r.headers().firstValue("grpc-status").orElse(""));
  }

  @Test
  void headerControlledFaults() throws Exception {
    assertEquals(200, get("/plain").statusCode(), "no header, no fault");
    assertEquals(429, get("/plain", "x-envoy-fault-abort-request", "429").statusCode());
    long t0 = System.nanoTime();
    assertEquals(200, get("/plain", "x-envoy-fault-delay-request", "200").statusCode());
    assertTrue((System.nanoTime() - t0) / 1_000_000 >= 190);
    int aborted = 0;
    for (int i = 0; i < 100; i++) {
      if (get("/plain", "x-envoy-fault-abort-request", "503", "x-envoy-fault-abort-request-percentage", "0")
          .statusCode() == 503) {
        aborted++;
      }
    }
    assertEquals(0, aborted, "a 0% header percentage aborts nothing");
  }

  @Test
  void aResponseRateLimitPacesTheBody() throws Exception {
    long t = System.nanoTime();
    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/paced/98304")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    long ms = (System.nanoTime() - t) / 1_000_000;
    assertEquals(200, r.statusCode());
    assertEquals(98304, r.body().length);
    // 96 KiB at 64 KiB/s: 1.5 s, less the first sixteenth of a second the pace allows at once
    assertTrue(ms >= 1300 && ms < 5000, "paced to 64 KiB/s: " + ms + " ms");
    assertTrue(proxy.stat("fault.ingress.response_rl_injected") >= 1);
  }

  @Test
  void theThroughputHeaderPacesAResponseAndWithoutItNothingIsPaced() throws Exception {
    long t = System.nanoTime();
    HttpResponse<byte[]> fast = client.send(HttpRequest.newBuilder(proxy.uri("http", "/size/65536")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    long fastMs = (System.nanoTime() - t) / 1_000_000;
    assertEquals(65536, fast.body().length);
    assertTrue(fastMs < 800, "not paced: " + fastMs + " ms");
    t = System.nanoTime();
    HttpResponse<byte[]> paced = client.send(HttpRequest.newBuilder(proxy.uri("http", "/size/65536"))
        .header("x-envoy-fault-throughput-response", "32").build(), HttpResponse.BodyHandlers.ofByteArray());
    long pacedMs = (System.nanoTime() - t) / 1_000_000;
    assertEquals(65536, paced.body().length);
    assertTrue(pacedMs >= 1700, "64 KiB at 32 KiB/s: " + pacedMs + " ms");
  }

  @Test
  void theAccessLogCarriesTheFaultFlags() throws Exception {
    assertEquals(418, get("/abort-all/flags").statusCode());
    assertEquals(429, get("/plain/flags-both", "x-envoy-fault-delay-request", "50", "x-envoy-fault-abort-request",
        "429").statusCode());
    assertEquals(200, get("/plain/flags-delay", "x-envoy-fault-delay-request", "50").statusCode());
    long deadline = System.nanoTime() + 10_000_000_000L;
    String log = "";
    while (System.nanoTime() < deadline && !(log.contains("flags-delay"))) {
      Thread.sleep(100); // the access log is flushed by its writer thread
      log = java.nio.file.Files.readString(accessLog);
    }
    assertTrue(log.lines().anyMatch(l -> l.contains("/abort-all/flags") && l.contains(" 418 FI ")), log);
    assertTrue(log.lines().anyMatch(l -> l.contains("/plain/flags-both") && l.contains(" 429 DI,FI ")), log);
    assertTrue(log.lines().anyMatch(l -> l.contains("/plain/flags-delay") && l.contains(" 200 DI ")), log);
  }
}
