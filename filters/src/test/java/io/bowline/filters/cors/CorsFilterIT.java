package io.bowline.filters.cors;

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

/** CORS with the policy on a virtual host, as Istio's VirtualService corsPolicy compiles to. */
@ExtendWith(LeakGuard.class)
class CorsFilterIT {
  static TestBackend backend;
  static ProxyHarness proxy;
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
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      typed_per_filter_config:
                        envoy.filters.http.cors:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                          allow_origin_string_match: [{exact: "https://app.example"}, {prefix: "https://dev."}]
                          allow_methods: "GET,POST"
                          allow_headers: "content-type,x-custom"
                          expose_headers: "x-echo-uri"
                          max_age: "600"
                          allow_credentials: true
                      routes:
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - {name: envoy.filters.http.cors, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
        """;
    proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("BACKEND", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void preflightFromAnAllowedOriginIsAnsweredByTheProxy() throws Exception {
    int before = backend.requestsTo("/echo/pre");
    HttpResponse<String> r = send("OPTIONS", "/echo/pre", "origin", "https://app.example",
        "access-control-request-method", "POST");
    assertEquals(200, r.statusCode());
    assertEquals("https://app.example", r.headers().firstValue("access-control-allow-origin").orElse(""));
    assertEquals("GET,POST", r.headers().firstValue("access-control-allow-methods").orElse(""));
    assertEquals("content-type,x-custom", r.headers().firstValue("access-control-allow-headers").orElse(""));
    assertEquals("600", r.headers().firstValue("access-control-max-age").orElse(""));
    assertEquals("true", r.headers().firstValue("access-control-allow-credentials").orElse(""));
    assertEquals(before, backend.requestsTo("/echo/pre"), "the upstream never saw the preflight");
  }

  @Test
  void actualRequestGetsTheAllowOriginHeader() throws Exception {
    HttpResponse<String> r = send("GET", "/echo/actual", "origin", "https://dev.team.example");
    assertEquals(200, r.statusCode());
    assertEquals("https://dev.team.example", r.headers().firstValue("access-control-allow-origin").orElse(""));
    assertEquals("x-echo-uri", r.headers().firstValue("access-control-expose-headers").orElse(""));
  }

  @Test
  void otherOriginsPassThroughUntouched() throws Exception {
    int before = backend.requestsTo("/echo/other");
    HttpResponse<String> r = send("OPTIONS", "/echo/other", "origin", "https://evil.example",
        "access-control-request-method", "POST");
    assertTrue(r.headers().firstValue("access-control-allow-origin").isEmpty());
    assertEquals(before + 1, backend.requestsTo("/echo/other"), "a non-matching preflight is forwarded");
    assertTrue(proxy.stat("cors.ingress.origin_invalid") >= 1);
  }
}
