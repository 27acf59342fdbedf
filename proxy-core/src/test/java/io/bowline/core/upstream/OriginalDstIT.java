package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ORIGINAL_DST clusters (Istio's PassthroughCluster shape) with {@code use_http_header}: each request goes to the
 * {@code ip:port} its {@code x-envoy-original-dst-host} names, on {@code upstream_port_override} when set; hosts
 * are made on demand and dropped after {@code cleanup_interval} unused; without a usable header the answer is 503
 * (bowline has no traffic capture yet, so the socket's destination would be its own listener).
 */
@ExtendWith(LeakGuard.class)
class OriginalDstIT {
  static TestBackend a;
  static TestBackend b;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    a = TestBackend.start();
    b = TestBackend.start();
    String yaml = ProxyHarness.httpBootstrap("""
        - name: all
          domains: ["*"]
          routes:
          - match: {prefix: "/override/"}
            route: {cluster: passthrough-b}
          - match: {prefix: "/"}
            route: {cluster: passthrough}
        """, """
        - name: passthrough
          type: ORIGINAL_DST
          lb_policy: CLUSTER_PROVIDED
          connect_timeout: 1s
          cleanup_interval: 0.5s
          original_dst_lb_config: {use_http_header: true}
        - name: passthrough-b
          type: ORIGINAL_DST
          lb_policy: CLUSTER_PROVIDED
          original_dst_lb_config: {use_http_header: true, http_header_name: x-target, upstream_port_override: ${B}}
        """);
    proxy = ProxyHarness.start(yaml, Map.of("B", b.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    a.close();
    b.close();
  }

  static int get(String path, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      r.headers(headers);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void eachRequestGoesWhereItsHeaderSays() throws Exception {
    assertEquals(200, get("/to-a", "x-envoy-original-dst-host", "127.0.0.1:" + a.port()));
    assertEquals(200, get("/to-b", "x-envoy-original-dst-host", "127.0.0.1:" + b.port()));
    assertEquals(200, get("/v6-to-a", "x-envoy-original-dst-host", "[::ffff:127.0.0.1]:" + a.port()));
    assertEquals(1, a.requestsTo("/to-a"));
    assertEquals(1, b.requestsTo("/to-b"));
    assertEquals(1, a.requestsTo("/v6-to-a"));
    assertEquals(200, get("/override/x", "x-target", "127.0.0.1:1"), "the port override wins");
    assertEquals(1, b.requestsTo("/override/x"));
  }

  @Test
  void noUsableDestinationIs503() throws Exception {
    assertEquals(503, get("/none"), "no header: the socket's destination is this proxy");
    assertEquals(503, get("/name", "x-envoy-original-dst-host", "localhost:" + a.port()), "names are not resolved");
    assertEquals(503, get("/junk", "x-envoy-original-dst-host", "127.0.0.1"));
    assertEquals(0, a.requestsTo("/none") + a.requestsTo("/name") + a.requestsTo("/junk"));
  }

  @Test
  void unusedHostsAreCleanedUp() throws Exception {
    assertEquals(200, get("/clean", "x-envoy-original-dst-host", "127.0.0.1:" + a.port()));
    assertTrue(proxy.stat("cluster.passthrough.membership_total") >= 1);
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (proxy.stat("cluster.passthrough.membership_total") > 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(0, proxy.stat("cluster.passthrough.membership_total"), "dropped after cleanup_interval unused");
    assertEquals(200, get("/again", "x-envoy-original-dst-host", "127.0.0.1:" + a.port()), "and made again");
  }
}
