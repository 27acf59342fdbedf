package io.bowline.filters.ratelimit;

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

/** envoy.filters.http.local_ratelimit: a token bucket at the connection manager and one on a route. */
@ExtendWith(LeakGuard.class)
class LocalRateLimitIT {
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
                      routes:
                      - match: {prefix: "/strict"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.local_ratelimit:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                            stat_prefix: strict
                            token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s}
                            filter_enabled: {default_value: {numerator: 100}}
                            filter_enforced: {default_value: {numerator: 0}}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                      stat_prefix: http_rl
                      token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 1s}
                      filter_enabled: {default_value: {numerator: 100}}
                      filter_enforced: {default_value: {numerator: 100}}
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

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(proxy.uri("http", path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void overTheBucketTheAnswerIs429AndTheBucketRefills() throws Exception {
    Thread.sleep(1100); // a full bucket
    int ok = 0;
    int limited = 0;
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = get("/echo/rl" + i);
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertEquals(429, r.statusCode());
        assertEquals("local_rate_limited", r.body());
        assertEquals("true", r.headers().firstValue("x-envoy-ratelimited").orElse(""));
        limited++;
      }
    }
    assertEquals(3, ok);
    assertEquals(2, limited);
    assertTrue(proxy.stat("http_rl.http_local_rate_limit.enforced") >= 2);
    Thread.sleep(1100);
    assertEquals(200, get("/echo/again").statusCode(), "refilled");
  }

  @Test
  void aRouteLimitThatIsNotEnforcedOnlyCounts() throws Exception {
    for (int i = 0; i < 4; i++) {
      assertEquals(200, get("/strict/" + i).statusCode());
    }
  }
}
