package io.bowline.filters.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * envoy.filters.http.ratelimit against a real gRPC server implementing envoy.service.ratelimit.v3: the descriptors
 * and domain it is asked about, OK with its headers, OVER_LIMIT as 429, a slow service allowed through
 * (failure_mode_deny off) and an unreachable one denied (failure_mode_deny on).
 */
@ExtendWith(LeakGuard.class)
class GlobalRateLimitIT {
  static TestBackend backend;
  static ProxyHarness proxy;
  static Server rls;
  static int closedPort;
  static final List<RateLimitRequest> asked = new CopyOnWriteArrayList<>();
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** Limits user=blocked; user=ok passes with headers; generic_key=slow answers after 1.5 s. */
  static final class TestRateLimitService extends RateLimitServiceGrpc.RateLimitServiceImplBase {
    @Override
    public void shouldRateLimit(RateLimitRequest request, StreamObserver<RateLimitResponse> out) {
      asked.add(request);
      String value = request.getDescriptors(0).getEntries(0).getValue();
      RateLimitResponse.Builder r = RateLimitResponse.newBuilder().setOverallCode(RateLimitResponse.Code.OK);
      switch (value) {
        case "blocked" -> r.setOverallCode(RateLimitResponse.Code.OVER_LIMIT)
            .addResponseHeadersToAdd(HeaderValue.newBuilder().setKey("x-rls").setValue("over"))
            .addStatuses(RateLimitResponse.DescriptorStatus.newBuilder()
                .setCode(RateLimitResponse.Code.OVER_LIMIT).setLimitRemaining(0)
                .setDurationUntilReset(Duration.newBuilder().setSeconds(30))
                .setCurrentLimit(RateLimitResponse.RateLimit.newBuilder().setRequestsPerUnit(5)
                    .setUnit(RateLimitResponse.RateLimit.Unit.MINUTE)));
        case "ok" -> r.addRequestHeadersToAdd(HeaderValue.newBuilder().setKey("x-rls-said").setValue("ok"))
            .addResponseHeadersToAdd(HeaderValue.newBuilder().setKey("x-rls").setValue("ok"));
        case "slow" -> sleep(1500);
        default -> { }
      }
      out.onNext(r.build());
      out.onCompleted();
    }

    private static void sleep(long ms) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    rls = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new TestRateLimitService()).build().start();
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort(); // nothing listens there once closed: the "down" rate limit service
    }
    proxy = ProxyHarness.start(BuiltinFilters.registry(), bootstrap("rls"),
        Map.of("BACKEND", backend.port(), "RLS", rls.getPort(), "DOWN", closedPort));
  }

  static String bootstrap(String allowCluster) {
    return """
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
                  route_config: &routes
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/rl"}
                        route:
                          cluster: backend
                          rate_limits: [{actions: [{request_headers: {header_name: x-user, descriptor_key: user}}]}]
                      - match: {prefix: "/per-route"}
                        route:
                          cluster: backend
                          rate_limits: [{actions: [{request_headers: {header_name: x-user, descriptor_key: user}}]}]
                        typed_per_filter_config:
                          envoy.filters.http.ratelimit:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute
                            domain: per-route-domain
                            rate_limits: [{actions: [{generic_key: {descriptor_value: ok}}]}]
                      - match: {prefix: "/slow"}
                        route:
                          cluster: backend
                          rate_limits: [{actions: [{generic_key: {descriptor_value: slow}}]}]
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
                      domain: bowline-test
                      timeout: 1s # the first call also opens the channel
                      enable_x_ratelimit_headers: DRAFT_VERSION_03
                      rate_limit_service:
                        transport_api_version: V3
                        grpc_service: {envoy_grpc: {cluster_name: %s}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          - name: deny
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: deny
                  route_config: *routes
                  http_filters:
                  - name: envoy.filters.http.ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
                      domain: bowline-test
                      failure_mode_deny: true
                      rate_limit_service:
                        transport_api_version: V3
                        grpc_service: {envoy_grpc: {cluster_name: rls_down}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
          - name: rls
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment: {cluster_name: rls, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RLS}}}}}]}]}
          - name: rls_down
            type: STATIC
            load_assignment: {cluster_name: rls_down, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${DOWN}}}}}]}]}
        """.formatted(allowCluster);
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
    rls.shutdownNow();
  }

  static HttpResponse<String> get(String listener, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri(listener, path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anAllowedRequestCarriesTheServicesHeadersBothWays() throws Exception {
    HttpResponse<String> r = get("http", "/rl/echo", "x-user", "ok");
    assertEquals(200, r.statusCode());
    assertEquals("ok", r.headers().firstValue("x-rls").orElse(""), "response_headers_to_add");
    RateLimitRequest seen = asked.stream().filter(a -> a.getDescriptors(0).getEntries(0).getValue().equals("ok"))
        .findFirst().orElseThrow();
    assertEquals("bowline-test", seen.getDomain());
    assertEquals("user", seen.getDescriptors(0).getEntries(0).getKey());
    assertEquals(1, seen.getDescriptorsCount());
    assertEquals(1, backend.received.stream().filter(q -> q.uri().equals("/rl/echo")
        && "ok".equals(q.headers().get("x-rls-said"))).count(), "request_headers_to_add reached the upstream");
    assertTrue(proxy.stat("cluster.backend.ratelimit.ok") >= 1);
  }

  @Test
  void overTheLimitIs429AndNothingReachesTheUpstream() throws Exception {
    HttpResponse<String> r = get("http", "/rl/blocked", "x-user", "blocked");
    assertEquals(429, r.statusCode());
    assertEquals("true", r.headers().firstValue("x-envoy-ratelimited").orElse(""));
    assertEquals("over", r.headers().firstValue("x-rls").orElse(""));
    assertEquals("5, 5;w=60", r.headers().firstValue("x-ratelimit-limit").orElse(""));
    assertEquals("0", r.headers().firstValue("x-ratelimit-remaining").orElse(""));
    assertEquals("30", r.headers().firstValue("x-ratelimit-reset").orElse(""));
    assertEquals(0, backend.requestsTo("/rl/blocked"));
    assertTrue(proxy.stat("cluster.backend.ratelimit.over_limit") >= 1);
  }

  @Test
  void withoutDescriptorsTheServiceIsNotAsked() throws Exception {
    int before = asked.size();
    assertEquals(200, get("http", "/rl/anonymous").statusCode(), "no x-user: the descriptor is not made");
    assertEquals(200, get("http", "/plain").statusCode(), "no rate limits on the route or its virtual host");
    assertEquals(before, asked.size());
  }

  @Test
  void aPerRouteConfigReplacesTheDomainAndTheRoutesLimits() throws Exception {
    assertEquals(200, get("http", "/per-route/1", "x-user", "blocked").statusCode(), "the route's own limit is replaced");
    RateLimitRequest seen = asked.stream().filter(a -> a.getDomain().equals("per-route-domain")).findFirst()
        .orElseThrow();
    assertEquals(1, seen.getDescriptorsCount());
    assertEquals("generic_key", seen.getDescriptors(0).getEntries(0).getKey());
  }

  @Test
  void aServiceSlowerThanTheTimeoutLetsTheRequestThrough() throws Exception {
    long t = System.nanoTime();
    assertEquals(200, get("http", "/slow/1").statusCode());
    long ms = (System.nanoTime() - t) / 1_000_000;
    assertTrue(ms >= 1000 && ms < 1450, "waited for the 1 s timeout, not the 1.5 s answer: " + ms + " ms");
    assertTrue(proxy.stat("cluster.backend.ratelimit.error") >= 1);
    assertTrue(proxy.stat("cluster.backend.ratelimit.failure_mode_allowed") >= 1);
  }

  @Test
  void anUnreachableServiceWithFailureModeDenyIs500() throws Exception {
    HttpResponse<String> r = get("deny", "/rl/x", "x-user", "ok");
    assertEquals(500, r.statusCode());
    assertEquals(0, backend.requestsTo("/rl/x"));
    assertEquals(200, get("deny", "/plain").statusCode(), "requests without descriptors still pass");
  }

  @Test
  void anUnknownServiceClusterIsRefusedByName() {
    Exception e = assertThrows(ConfigException.class, () -> ProxyHarness.start(BuiltinFilters.registry(),
        bootstrap("nowhere"), Map.of("BACKEND", backend.port(), "RLS", rls.getPort(), "DOWN", closedPort)));
    assertTrue(e.getMessage().contains("envoy_grpc.cluster_name") && e.getMessage().contains("nowhere"),
        e.getMessage());
  }
}
