package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Active health checks: an HTTP check that takes a host out at its first wrong answer and back after
 * healthy_threshold passes, and makes a host degraded while its answers carry x-envoy-degraded; a TCP check
 * (send/receive) and a gRPC check (grpc.health.v1) that mark what fails.
 */
@ExtendWith(LeakGuard.class)
class HealthCheckIT {
  /** A backend answering its name, whose /hc says 200 or 503 as {@link #healthy} says. */
  static final class Backend {
    final HttpServer server;
    final AtomicBoolean healthy = new AtomicBoolean(true);
    /** /hc answers with Envoy's x-envoy-degraded. */
    final AtomicBoolean degraded = new AtomicBoolean(false);
    final AtomicInteger served = new AtomicInteger();
    final AtomicInteger checks = new AtomicInteger();
    volatile String lastCheckHeaders = "";

    Backend(String name) throws Exception {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
      server.createContext("/", ex -> {
        byte[] body;
        int status;
        if (ex.getRequestURI().getPath().equals("/hc")) {
          checks.incrementAndGet();
          lastCheckHeaders = ex.getRequestHeaders().getFirst("user-agent") + " "
              + ex.getRequestHeaders().getFirst("host");
          status = healthy.get() ? 200 : 503;
          if (degraded.get()) {
            ex.getResponseHeaders().add("x-envoy-degraded", "true");
          }
          body = ("checked by " + ex.getRequestHeaders().getFirst("user-agent") + " for "
              + ex.getRequestHeaders().getFirst("host")).getBytes(StandardCharsets.UTF_8);
        } else {
          served.incrementAndGet();
          status = 200;
          body = name.getBytes(StandardCharsets.UTF_8);
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      });
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }
  }

  static Backend a;
  static Backend b;
  static Backend c;
  static ServerSocket pong;
  static int closedPort;
  static Server grpc;
  static final AtomicInteger grpcStatus = new AtomicInteger(1); // SERVING
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    a = new Backend("a");
    b = new Backend("b");
    c = new Backend("c");
    pong = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread t = new Thread(HealthCheckIT::answerPings, "pong");
    t.setDaemon(true);
    t.start();
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(healthService()).build()
        .start();
    String clusters = """
        - name: web
          type: STATIC
          lb_policy: ROUND_ROBIN
          health_checks:
          - timeout: 1s
            interval: 0.1s
            unhealthy_threshold: 3
            healthy_threshold: 2
            http_health_check: {path: /hc, host: hc.example}
          load_assignment:
            cluster_name: web
            endpoints: [{lb_endpoints: [
              {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${A}}}}},
              {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${B}}}}}]}]
        - name: alt
          type: STATIC
          health_checks:
          - timeout: 1s
            interval: 0.1s
            unhealthy_threshold: 1
            healthy_threshold: 1
            http_health_check: {path: /hc}
          load_assignment:
            cluster_name: alt
            endpoints: [{lb_endpoints: [
              {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${CLOSED}}},
                          health_check_config: {port_value: ${C}, hostname: alt.example}}},
              {endpoint: {address: {socket_address: {address: 127.0.0.2, port_value: ${CLOSED}}},
                          health_check_config: {disable_active_health_check: true}}}]}]
        - name: tcp
          type: STATIC
          health_checks:
          - timeout: 0.5s
            interval: 0.1s
            unhealthy_threshold: 2
            healthy_threshold: 1
            tcp_health_check: {send: {text: "70696e67"}, receive: [{text: "706f6e67"}]}
          load_assignment:
            cluster_name: tcp
            endpoints: [{lb_endpoints: [
              {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PONG}}}}},
              {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${CLOSED}}}}}]}]
        - name: grpc
          type: STATIC
          typed_extension_protocol_options:
            envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
              "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
              explicit_http_config: {http2_protocol_options: {}}
          health_checks:
          - timeout: 1s
            interval: 0.1s
            unhealthy_threshold: 2
            healthy_threshold: 1
            grpc_health_check: {service_name: shop}
          load_assignment:
            cluster_name: grpc
            endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${GRPC}}}}}]}]
        """;
    String vhosts = """
        - name: all
          domains: ["*"]
          routes: [{match: {prefix: "/"}, route: {cluster: web}}]
        """;
    Map<String, Object> vars = new HashMap<>();
    vars.put("A", a.port());
    vars.put("B", b.port());
    vars.put("C", c.port());
    vars.put("PONG", pong.getLocalPort());
    vars.put("CLOSED", closedPort);
    vars.put("GRPC", grpc.getPort());
    proxy = ProxyHarness.start(ProxyHarness.httpBootstrap(vhosts, clusters), vars);
  }

  /** Answers "pong" to each connection that says "ping", then closes it. */
  static void answerPings() {
    while (!pong.isClosed()) {
      try (Socket s = pong.accept()) {
        byte[] buf = new byte[4];
        if (s.getInputStream().readNBytes(buf, 0, 4) == 4 && new String(buf, StandardCharsets.US_ASCII)
            .equals("ping")) {
          s.getOutputStream().write("xx pong".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        }
      } catch (Exception e) {
        // closed at the end of the test, or a check that gave up
      }
    }
  }

  /** grpc.health.v1.Health/Check answering {@link #grpcStatus} for service "shop", SERVICE_UNKNOWN otherwise. */
  static ServerServiceDefinition healthService() {
    return ServerServiceDefinition.builder("grpc.health.v1.Health")
        .addMethod(GrpcHealthProbe.CHECK, ServerCalls.asyncUnaryCall((req, out) -> {
          String service = req.length > 2 ? new String(req, 2, req.length - 2, StandardCharsets.UTF_8) : "";
          out.onNext(new byte[] {0x08, (byte) (service.equals("shop") ? grpcStatus.get() : 3)});
          out.onCompleted();
        })).build();
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    a.server.stop(0);
    b.server.stop(0);
    c.server.stop(0);
    pong.close();
    grpc.shutdownNow();
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  static String clusters() {
    try {
      return proxy.admin("/clusters");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A host's health flags in the admin /clusters text ("" when not listed). */
  static String flags(String cluster, int port) {
    String prefix = cluster + "::127.0.0.1:" + port + "::health_flags::";
    for (String line : clusters().split("\n")) {
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length()).trim();
      }
    }
    return "";
  }

  /** Which backends 20 requests reach. */
  static String spread() throws Exception {
    int beforeA = a.served.get();
    int beforeB = b.served.get();
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/x")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
    }
    return (a.served.get() > beforeA ? "a" : "") + (b.served.get() > beforeB ? "b" : "");
  }

  @Test
  void aFailingHttpCheckTakesTheHostOutAtOnceAndHealthyThresholdPassesBringItBack() throws Exception {
    await(() -> flags("web", a.port()).equals("healthy") && flags("web", b.port()).equals("healthy"),
        "both hosts pass their first check");
    assertEquals("ab", spread());

    b.healthy.set(false);
    int failedAt = b.checks.get();
    await(() -> flags("web", b.port()).equals("/failed_active_hc"), "b marked failed");
    assertTrue(b.checks.get() - failedAt <= 2, "one 503 is enough (no unhealthy_threshold for wrong answers)");
    assertEquals("a", spread(), "no requests to a failed host");
    assertTrue(proxy.stat("cluster.web.health_check.failure") >= 1);

    b.healthy.set(true);
    await(() -> flags("web", b.port()).equals("healthy"), "b healthy again");
    assertEquals("ab", spread());
    assertTrue(proxy.stat("cluster.web.health_check.attempt") >= 4);
    assertEquals(2, proxy.stat("cluster.web.health_check.healthy"));
  }

  @Test
  void aCheckAnsweredWithXEnvoyDegradedMakesTheHostDegraded() throws Exception {
    await(() -> flags("web", a.port()).equals("healthy") && flags("web", b.port()).equals("healthy"),
        "both hosts pass their checks");
    a.degraded.set(true);
    try {
      await(() -> flags("web", a.port()).equals("/degraded_active_hc"), "a marked degraded");
      assertEquals(1, proxy.stat("cluster.web.health_check.degraded"));
      assertEquals(1, proxy.stat("cluster.web.membership_degraded"));
      // b alone is 50% x 1.4 = 70% of the load; a, degraded, takes the other 30% (round robin would give it half)
      int beforeA = a.served.get();
      for (int i = 0; i < 200; i++) {
        assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/d")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode());
      }
      int toA = a.served.get() - beforeA;
      assertTrue(toA >= 35 && toA <= 85, "30% expected to the degraded host: " + toA + "/200");
    } finally {
      a.degraded.set(false);
    }
    await(() -> flags("web", a.port()).equals("healthy"), "a no longer degraded after a plain answer");
    assertEquals(0, proxy.stat("cluster.web.health_check.degraded"));
  }

  @Test
  void theCheckCarriesEnvoysUserAgentAndTheConfiguredHost() throws Exception {
    await(() -> a.checks.get() > 0, "a checked");
    assertEquals("Envoy/HC hc.example", a.lastCheckHeaders);
  }

  @Test
  void anEndpointsHealthCheckConfigMovesOrTurnsOffItsChecks() throws Exception {
    // the first endpoint serves nothing on its own port but is checked on c's, with its own Host
    await(() -> flags("alt", closedPort).equals("healthy") && c.checks.get() > 0, "checked on the alternate port");
    assertEquals("Envoy/HC alt.example", c.lastCheckHeaders);
    String prefix = "alt::127.0.0.2:" + closedPort + "::health_flags::";
    assertTrue(clusters().lines().anyMatch(l -> l.equals(prefix + "healthy")), "never checked, never failed");
  }

  @Test
  void aTcpCheckFailsTheHostThatDoesNotAnswer() throws Exception {
    await(() -> flags("tcp", closedPort).equals("/failed_active_hc")
        && flags("tcp", pong.getLocalPort()).equals("healthy"),
        "the closed port failed, the pong server passed");
    assertTrue(proxy.stat("cluster.tcp.health_check.network_failure") >= 2);
  }

  @Test
  void aGrpcCheckFollowsTheServingStatus() throws Exception {
    await(() -> flags("grpc", grpc.getPort()).equals("healthy"), "serving");
    grpcStatus.set(2); // NOT_SERVING
    await(() -> flags("grpc", grpc.getPort()).equals("/failed_active_hc"), "not serving");
    grpcStatus.set(1);
    await(() -> flags("grpc", grpc.getPort()).equals("healthy"), "serving again");
  }
}
