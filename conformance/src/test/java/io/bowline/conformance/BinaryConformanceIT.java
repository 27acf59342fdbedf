package io.bowline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.TestBackend;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/bowline as a process with a bootstrap file: traffic, admin API, access log, bad config, and SIGTERM. */
class BinaryConformanceIT {
  @TempDir
  Path dir;

  private Path bootstrap(String resource, int backendPort) throws Exception {
    String text;
    try (InputStream in = getClass().getResourceAsStream("/bootstraps/" + resource)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    text = text.replace("${BACKEND}", Integer.toString(backendPort))
        .replace("${ACCESS_LOG}", dir.resolve("access.log").toString());
    Path f = dir.resolve(resource);
    Files.writeString(f, text);
    return f;
  }

  @Test
  void servesTrafficAndTheAdminApiThenDrainsOnSigterm() throws Exception {
    try (TestBackend backend = TestBackend.start();
        BowlineProcess p = BowlineProcess.start(dir, "-c", bootstrap("http-and-tcp.yaml", backend.port()).toString(),
            "--file-flush-interval-msec", "100")) {
      p.awaitReady();
      int http = p.listenerPort("http");
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
          + "/service/a?x=1")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertEquals("/echo/a?x=1", r.headers().firstValue("x-echo-uri").orElseThrow());
      assertEquals("healthy", client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
          + "/health")).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertEquals(1, p.stat("cluster.backend.upstream_rq_200"));
      assertTrue(p.stat("http.ingress_http.downstream_rq_2xx") >= 2);
      assertTrue(p.get("/config_dump").body().contains("\"static_listeners\""));
      assertTrue(p.get("/server_info").body().contains("conformance-node"));
      assertTrue(p.get("/clusters").body().contains("backend::127.0.0.1:" + backend.port() + "::hostname::localhost"));
      assertTrue(p.get("/stats/prometheus").body().contains("envoy_http_downstream_rq_xx{"
          + "envoy_http_conn_manager_prefix=\"ingress_http\",envoy_response_code_class=\"2\"}"));
      try (Socket s = new Socket("127.0.0.1", p.listenerPort("tcp"))) {
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET /echo/tcp HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
        byte[] buf = new byte[4096];
        int n = s.getInputStream().read(buf);
        String raw = new String(buf, 0, Math.max(n, 0), StandardCharsets.ISO_8859_1);
        assertTrue(raw.startsWith("HTTP/1.1 200") && raw.contains("x-echo-uri: /echo/tcp"), raw);
      }
      Thread.sleep(300);
      String log = Files.readString(dir.resolve("access.log"));
      assertTrue(log.contains("\"GET /service/a?x=1 HTTP/1.1\" 200 - 0 0"), log);
      // SIGTERM with a request in flight: it completes, the process exits 0
      CompletableFuture<HttpResponse<String>> slow = client.sendAsync(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + http + "/slow/1000")).build(), HttpResponse.BodyHandlers.ofString());
      Thread.sleep(200);
      p.terminate();
      assertEquals(200, slow.get(10, TimeUnit.SECONDS).statusCode());
      assertEquals(0, p.awaitExit(20));
      assertTrue(!p.stderr().contains("LEAK:"), p.stderr());
    }
  }

  @Test
  void unsupportedFieldIsOneErrorLineAndExitCode1() throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, """
        static_resources:
          clusters:
          - name: c
            type: STATIC
            lb_policy: LOAD_BALANCING_POLICY_CONFIG
        """);
    try (BowlineProcess p = BowlineProcess.start(dir, "-c", f.toString())) {
      assertEquals(1, p.awaitExit(60));
      String err = p.stderr().trim();
      assertTrue(err.contains("static_resources.clusters[0].lb_policy: LOAD_BALANCING_POLICY_CONFIG is not supported by bowline yet"), err);
      assertEquals(1, err.lines().filter(l -> l.startsWith("error:")).count(), err);
    }
  }

  @Test
  void unknownFieldIsRejectedUnlessAllowed() throws Exception {
    Path f = dir.resolve("unknown.yaml");
    Files.writeString(f, """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: c
            type: STATIC
            surprise: 1
        """);
    try (BowlineProcess p = BowlineProcess.start(dir, "-c", f.toString())) {
      assertEquals(1, p.awaitExit(60));
      assertTrue(p.stderr().contains("static_resources.clusters[0].surprise: unknown field"), p.stderr());
    }
    try (BowlineProcess p = BowlineProcess.start(dir, "-c", f.toString(), "--allow-unknown-static-fields")) {
      p.awaitReady();
      assertTrue(p.stderr().contains("static_resources.clusters[0].surprise: unknown field"), p.stderr());
    }
  }
}
