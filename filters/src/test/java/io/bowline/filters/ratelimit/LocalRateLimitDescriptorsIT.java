package io.bowline.filters.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.compile.RouteCompiler;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.BootstrapLoader;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Local rate limiting by descriptor: route and virtual-host {@code rate_limits} turn each request into descriptors,
 * and each configured descriptor (exact, or with a blank value: a bucket per value) limits the requests matching it.
 * Each test uses its own descriptor values, so the buckets (1 or 2 tokens a minute) do not interfere.
 */
@ExtendWith(LeakGuard.class)
class LocalRateLimitDescriptorsIT {
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
                      rate_limits:
                      - actions: [{generic_key: {descriptor_value: vh}}]
                      routes:
                      - match: {prefix: "/d"}
                        route:
                          cluster: backend
                          rate_limits:
                          - actions: [{request_headers: {header_name: x-client-id, descriptor_key: client_id}}]
                          - actions:
                            - header_value_match:
                                descriptor_value: admin
                                headers: [{name: ":path", string_match: {prefix: "/d/admin"}}]
                          - stage: 1
                            actions: [{generic_key: {descriptor_value: other-stage}}]
                      - match: {prefix: "/to"}
                        route:
                          weighted_clusters:
                            clusters: [{name: backend, weight: 1}, {name: backend2, weight: 1}]
                          rate_limits:
                          - actions: [{destination_cluster: {}}, {remote_address: {}}]
                      - match: {prefix: "/v"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                      stat_prefix: desc
                      token_bucket: {max_tokens: 1000, tokens_per_fill: 1000, fill_interval: 1s}
                      filter_enabled: {default_value: {numerator: 100}}
                      filter_enforced: {default_value: {numerator: 100}}
                      enable_x_ratelimit_headers: DRAFT_VERSION_03
                      descriptors:
                      - entries: [{key: client_id, value: foo}]
                        token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s}
                      - entries: [{key: client_id}]
                        token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s}
                      - entries: [{key: header_match, value: admin}]
                        token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s}
                      - entries: [{key: generic_key, value: vh}]
                        token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s}
                      - entries: [{key: generic_key, value: other-stage}]
                        token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s}
                      - entries: [{key: destination_cluster}, {key: remote_address, value: 127.0.0.1}]
                        token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
          - name: backend2
            type: STATIC
            load_assignment: {cluster_name: backend2, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
        """;
    proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("BACKEND", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anExactDescriptorHasItsOwnBucketAndTheHeadersSayHowMuchIsLeft() throws Exception {
    HttpResponse<String> first = get("/d/x", "x-client-id", "foo");
    assertEquals(200, first.statusCode());
    assertEquals("2", first.headers().firstValue("x-ratelimit-limit").orElse(""));
    assertEquals("1", first.headers().firstValue("x-ratelimit-remaining").orElse(""));
    assertTrue(Long.parseLong(first.headers().firstValue("x-ratelimit-reset").orElse("-1")) > 0);
    assertEquals(200, get("/d/x", "x-client-id", "foo").statusCode());
    HttpResponse<String> third = get("/d/x", "x-client-id", "foo");
    assertEquals(429, third.statusCode());
    assertEquals("true", third.headers().firstValue("x-envoy-ratelimited").orElse(""));
    assertEquals("0", third.headers().firstValue("x-ratelimit-remaining").orElse(""));
  }

  @Test
  void aBlankValueLimitsEachValueOnItsOwnBucket() throws Exception {
    assertEquals(200, get("/d/y", "x-client-id", "bar").statusCode());
    assertEquals(429, get("/d/y", "x-client-id", "bar").statusCode());
    assertEquals(200, get("/d/y", "x-client-id", "baz").statusCode(), "another value, another bucket");
    assertEquals(429, get("/d/y", "x-client-id", "baz").statusCode());
  }

  @Test
  void aMissingHeaderDropsItsDescriptorAndTheRouteOverridesTheVirtualHost() throws Exception {
    // no x-client-id: that descriptor is not made; the route has rate limits, so the virtual host's are not used
    // (vh_rate_limits OVERRIDE), and the stage-1 limit is not this filter's (stage 0): only the default bucket
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = get("/d/plain");
      assertEquals(200, r.statusCode());
      assertEquals("1000", r.headers().firstValue("x-ratelimit-limit").orElse(""));
    }
  }

  @Test
  void aHeaderValueMatchOnThePathMakesItsDescriptor() throws Exception {
    assertEquals(200, get("/d/admin/1").statusCode());
    assertEquals(429, get("/d/admin/2").statusCode());
    assertEquals(200, get("/d/other").statusCode(), "the path does not match: no descriptor");
  }

  @Test
  void aRouteWithoutRateLimitsTakesTheVirtualHosts() throws Exception {
    assertEquals(200, get("/v/1").statusCode());
    assertEquals(429, get("/v/2").statusCode());
  }

  @Test
  void destinationClusterAndRemoteAddressDescribeThePickedClusterAndTheClient() throws Exception {
    // one bucket per (picked cluster, client 127.0.0.1): at most two requests pass, one per cluster
    int ok = 0;
    for (int i = 0; i < 20; i++) {
      if (get("/to/" + i).statusCode() == 200) {
        ok++;
      }
    }
    assertEquals(2, ok);
  }

  @Test
  void anActionBowlineDoesNotTakeIsRefusedByName() {
    String yaml = """
        name: r
        virtual_hosts:
        - name: v
          domains: ["*"]
          routes:
          - match: {prefix: "/"}
            route:
              cluster: c
              rate_limits: [{actions: [{masked_remote_address: {}}]}]
        """;
    ConfigException e = assertThrows(ConfigException.class, () -> RouteCompiler.compile(
        BootstrapLoader.mergeYaml(yaml, RouteConfiguration.newBuilder()).build(), "r",
        BuiltinFilters.registry()));
    assertTrue(e.getMessage().contains("rate_limits[0].actions[0].masked_remote_address"), e.getMessage());
  }
}
