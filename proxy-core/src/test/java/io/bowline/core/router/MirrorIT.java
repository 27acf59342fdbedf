package io.bowline.core.router;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** request_mirror_policies, as Istio's VirtualService mirror compiles: a shadow copy, fire and forget. */
@ExtendWith(LeakGuard.class)
class MirrorIT {
  static String config(String mirrorPolicy) {
    return ProxyHarness.simpleHttp("", "").replace("route: {cluster: backend}",
        "route: {cluster: backend, request_mirror_policies: [" + mirrorPolicy + "]}") + """
          - name: shadow
            type: STATIC
            connect_timeout: 1s
            load_assignment: {cluster_name: shadow, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${SHADOW}}}}}]}]}
        """;
  }

  @Test
  void theShadowGetsTheSameRequestWithAShadowHost() throws Exception {
    try (TestBackend main = TestBackend.start(); TestBackend shadow = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(config("{cluster: shadow}"),
            Map.of("BACKEND", main.port(), "SHADOW", shadow.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String body = "m".repeat(50_000);
      for (int i = 0; i < 10; i++) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/mirror" + i))
            .header("host", "orders:8080").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().equals(body));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> shadow.requestsTo("/echo/mirror") == 10);
      var seen = shadow.received.stream().filter(q -> q.uri().startsWith("/echo/mirror")).toList();
      assertTrue(seen.stream().allMatch(q -> "orders-shadow:8080".equals(q.headers().get("host"))),
          "the shadow host: " + seen.get(0).headers().get("host"));
      assertTrue(seen.stream().allMatch(q -> q.bodyBytes() == 50_000), "the whole body went to the shadow too");
    }
  }

  @Test
  void aShadowThatNeverAnswersDoesNotSlowTheOriginal() throws Exception {
    try (TestBackend main = TestBackend.start();
        ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> accepted = new CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            accepted.add(silent.accept());
          }
        } catch (Exception e) {
          // closed
        }
      });
      acceptor.start();
      try (ProxyHarness proxy = ProxyHarness.start(config("{cluster: shadow}"),
          Map.of("BACKEND", main.port(), "SHADOW", silent.getLocalPort()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/fast" + i))
              .POST(HttpRequest.BodyPublishers.ofString("x".repeat(10_000))).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 3000, "20 requests in " + ms + " ms despite a silent shadow");
        assertEquals(20, main.requestsTo("/echo/fast"));
      } finally {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  @Test
  void aZeroFractionMirrorsNothing() throws Exception {
    try (TestBackend main = TestBackend.start(); TestBackend shadow = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(config(
            "{cluster: shadow, runtime_fraction: {default_value: {numerator: 0}}}"),
            Map.of("BACKEND", main.port(), "SHADOW", shadow.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (int i = 0; i < 10; i++) {
        client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/none" + i)).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      Thread.sleep(200);
      assertEquals(0, shadow.requestsTo("/echo/none"));
    }
  }
}
