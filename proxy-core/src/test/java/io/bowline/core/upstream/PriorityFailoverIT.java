package io.bowline.core.upstream;

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
 * Priority levels through the proxy: priority 0 has two endpoints, one marked UNHEALTHY, so with Envoy's
 * overprovisioning factor (1.4) it is 70% healthy and 30% of requests fail over to priority 1; with every priority-0
 * endpoint unhealthy, all go to priority 1; a lower overprovisioning factor moves more.
 */
@ExtendWith(LeakGuard.class)
class PriorityFailoverIT {
  static TestBackend p0;
  static TestBackend p0down;
  static TestBackend p1;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    p0 = TestBackend.start();
    p0down = TestBackend.start();
    p1 = TestBackend.start();
    String yaml = ProxyHarness.httpBootstrap("""
        - name: all
          domains: ["*"]
          routes:
          - match: {prefix: "/half/"}
            route: {cluster: half}
          - match: {prefix: "/down/"}
            route: {cluster: down}
          - match: {prefix: "/factor/"}
            route: {cluster: factor}
          - match: {prefix: "/previous-priorities/"}
            route:
              cluster: dead0
              retry_policy:
                retry_on: connect-failure
                num_retries: 1
                retry_priority:
                  name: envoy.retry_priorities.previous_priorities
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig
                    update_frequency: 1
          - match: {prefix: "/same-priority/"}
            route:
              cluster: dead0
              retry_policy: {retry_on: connect-failure, num_retries: 1}
        """, """
        - name: dead0
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: dead0
            endpoints:
            - priority: 0
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${CLOSED}}}}
            - priority: 1
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P1}}}}
        - name: half
          type: STATIC
          load_assignment:
            cluster_name: half
            endpoints:
            - priority: 0
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P0}}}}
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P0DOWN}}}}
                health_status: UNHEALTHY
            - priority: 1
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P1}}}}
        - name: down
          type: STATIC
          load_assignment:
            cluster_name: down
            endpoints:
            - priority: 0
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P0DOWN}}}}
                health_status: UNHEALTHY
            - priority: 1
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P1}}}}
        - name: factor
          type: STATIC
          load_assignment:
            cluster_name: factor
            policy: {overprovisioning_factor: 100}
            endpoints:
            - priority: 0
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P0}}}}
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P0DOWN}}}}
                health_status: DRAINING
            - priority: 1
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${P1}}}}
        """);
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort(); // nothing listens there once closed: priority 0 of dead0 refuses connections
    }
    proxy = ProxyHarness.start(yaml, Map.of("P0", p0.port(), "P0DOWN", p0down.port(), "P1", p1.port(),
        "CLOSED", closed));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    p0.close();
    p0down.close();
    p1.close();
  }

  static void send(String prefix, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", prefix + i)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
    }
  }

  @Test
  void seventyPercentHealthyKeepsSeventyPercent() throws Exception {
    send("/half/", 1000);
    int zero = p0.requestsTo("/half/");
    int one = p1.requestsTo("/half/");
    assertEquals(0, p0down.requestsTo("/half/"), "an UNHEALTHY endpoint takes no requests");
    assertEquals(1000, zero + one);
    assertTrue(zero >= 640 && zero <= 760, "priority 0 took " + zero + " of 1000 (70% expected)");
    assertEquals(3, proxy.stat("cluster.half.membership_total"));
    String clusters = proxy.admin("/clusters");
    assertTrue(clusters.contains("half::127.0.0.1:" + p0down.port() + "::health_flags::/failed_eds_health"), clusters);
    assertTrue(clusters.contains("half::127.0.0.1:" + p1.port() + "::priority::1"), clusters);
    assertEquals(2, proxy.stat("cluster.half.membership_healthy"), "the healthy hosts of both priorities");
  }

  @Test
  void nothingHealthyAtPriorityZeroSendsAllToPriorityOne() throws Exception {
    send("/down/", 100);
    assertEquals(100, p1.requestsTo("/down/"));
  }

  @Test
  void previousPrioritiesSendsTheRetryToTheNextPriority() throws Exception {
    // priority 0 is "healthy" (nothing says otherwise) but refuses connections: the first attempt always goes there;
    // with previous_priorities the retry leaves priority 0 out and reaches priority 1
    send("/previous-priorities/", 20);
    assertEquals(20, p1.requestsTo("/previous-priorities/"));
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/same-priority/" + i)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(503, r.statusCode(), "without it the retry goes to priority 0 again");
    }
  }

  @Test
  void theOverprovisioningFactorComesFromTheAssignment() throws Exception {
    send("/factor/", 1000);
    int zero = p0.requestsTo("/factor/");
    assertTrue(zero >= 440 && zero <= 560, "factor 1.0: priority 0 took " + zero + " of 1000 (50% expected)");
  }
}
