package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakGuard.class)
class HttpProxyIT {
  private static final String ROUTES = """
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
                http_protocol_options: {accept_http_10: true}
                route_config:
                  name: local
                  validate_clusters: false
                  response_headers_to_add: [{header: {key: x-table, value: t}}]
                  virtual_hosts:
                  - name: other
                    domains: ["other.example.com", "*.wild.example.com"]
                    routes:
                    - match: {prefix: "/"}
                      direct_response: {status: 200, body: {inline_string: "other vhost"}}
                  - name: all
                    domains: ["*"]
                    request_headers_to_add: [{header: {key: x-vhost, value: all}}]
                    routes:
                    - match: {prefix: "/direct"}
                      direct_response: {status: 418, body: {inline_string: "teapot"}}
                    - match: {prefix: "/old/"}
                      redirect: {path_redirect: "/new", response_code: TEMPORARY_REDIRECT}
                    - match: {prefix: "/api/", headers: [{name: x-version, exact_match: "2"}]}
                      route: {cluster: backend, prefix_rewrite: "/echo/v2/"}
                    - match: {prefix: "/api/"}
                      route: {cluster: backend, prefix_rewrite: "/echo/"}
                      request_headers_to_add: [{header: {key: x-route, value: api}}]
                      request_headers_to_remove: [x-remove-me]
                      response_headers_to_add: [{header: {key: x-resp, value: added}}]
                    - match: {prefix: "/slow/"}
                      route: {cluster: backend, prefix_rewrite: "/delay/", timeout: 0.3s}
                    - match: {prefix: "/nocluster"}
                      route: {cluster: missing}
                    - match: {prefix: "/dead"}
                      route: {cluster: dead}
                    - match: {prefix: "/host"}
                      route: {cluster: backend, host_rewrite_literal: rewritten.example, prefix_rewrite: "/echo"}
                    - match: {path: "/exact"}
                      route: {cluster: backend, prefix_rewrite: "/echo/exact"}
                    - match: {prefix: "/", query_parameters: [{name: q, string_match: {exact: "1"}}]}
                      direct_response: {status: 202}
                    - match: {prefix: "/"}
                      route: {cluster: backend}
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        clusters:
        - name: backend
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: backend
            endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]
        - name: dead
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: dead
            endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${DEAD}}}}}]}]
      """;

  static TestBackend backend;
  static ProxyHarness proxy;
  static HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    int dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = s.getLocalPort(); // closed again: connecting there is refused
    }
    proxy = ProxyHarness.start(ROUTES, Map.of("BACKEND", backend.port(), "DEAD", dead));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(5));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A cluster that cannot be reached says so in the log — its address and the cause — once for a burst of failures,
   * beside the 503 UF each request gets: what a developer whose local service is down looks for first.
   */
  @Test
  void aConnectFailureIsSaidInTheLogOnceForABurst() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    java.util.List<String> lines = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("io.bowline.core.upstream.ConnectFailureLog");
    java.util.logging.Handler capture = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        lines.add(r.getLevel() + " " + r.getMessage()); // slf4j's JUL binding hands over the formatted line
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    log.addHandler(capture);
    try (ProxyHarness p = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", closed))) {
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("http", "/x")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
      }
    } finally {
      log.removeHandler(capture);
    }
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).startsWith("WARNING cluster backend: cannot connect to 127.0.0.1:" + closed + ": "),
        lines.toString());
  }

  /** A target that is no path (OPTIONS *, as health probes send) is Envoy's 404, and the connection serves on. */
  @Test
  void aTargetThatIsNoPathIs404AndTheConnectionServesOn() throws Exception {
    long before = proxy.stat("http.ingress.downstream_rq_non_relative_path");
    try (io.bowline.core.testing.RawHttp raw = new io.bowline.core.testing.RawHttp(proxy.port("http"))) {
      String r = raw.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").readAll(400);
      assertEquals(404, io.bowline.core.testing.RawHttp.status(r), r);
      assertFalse(r.contains("connection: close"), r);
      String next = raw.send("GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n").readAll(400);
      assertEquals(200, io.bowline.core.testing.RawHttp.status(next), next);
    }
    assertEquals(before + 1, proxy.stat("http.ingress.downstream_rq_non_relative_path"));
  }

  @Test
  void proxiesWithEnvoysHeaders() throws Exception {
    HttpResponse<String> r = get("/echo/hello?x=1", "x-forwarded-for", "1.2.3.4", "connection", "keep-alive, x-hop",
        "x-hop", "secret");
    assertEquals(200, r.statusCode());
    assertEquals("/echo/hello?x=1", r.headers().firstValue("x-echo-uri").orElseThrow());
    assertEquals("envoy", r.headers().firstValue("server").orElseThrow());
    assertTrue(r.headers().firstValue("x-envoy-upstream-service-time").isPresent());
    assertTrue(r.headers().firstValue("x-echo-h-x-request-id").orElseThrow().matches("[0-9a-f-]{36}"));
    assertEquals("http", r.headers().firstValue("x-echo-h-x-forwarded-proto").orElseThrow());
    assertEquals("1.2.3.4", r.headers().firstValue("x-echo-h-x-forwarded-for").orElseThrow(),
        "use_remote_address is false by default: XFF passes unchanged");
    assertFalse(r.headers().firstValue("x-echo-h-x-hop").isPresent(), "headers named by Connection are hop-by-hop");
    assertEquals("all", r.headers().firstValue("x-echo-h-x-vhost").orElseThrow());
    assertEquals("t", r.headers().firstValue("x-table").orElseThrow());
  }

  @Test
  void keepAliveReusesOneUpstreamConnection() throws Exception {
    long before = proxy.stat("cluster.backend.upstream_cx_total");
    for (int i = 0; i < 20; i++) {
      assertEquals(200, get("/ok").statusCode());
    }
    long opened = proxy.stat("cluster.backend.upstream_cx_total") - before;
    assertTrue(opened <= 2, "20 sequential requests opened " + opened + " upstream connections");
  }

  @Test
  void routesByHeaderPrefixRewriteAndHeaderMutations() throws Exception {
    HttpResponse<String> v1 = get("/api/users", "x-remove-me", "1");
    assertEquals("/echo/users", v1.headers().firstValue("x-echo-uri").orElseThrow());
    assertEquals("api", v1.headers().firstValue("x-echo-h-x-route").orElseThrow());
    assertFalse(v1.headers().firstValue("x-echo-h-x-remove-me").isPresent());
    assertEquals("added", v1.headers().firstValue("x-resp").orElseThrow());
    HttpResponse<String> v2 = get("/api/users", "x-version", "2");
    assertEquals("/echo/v2/users", v2.headers().firstValue("x-echo-uri").orElseThrow());
    assertEquals("/echo/exact", get("/exact").headers().firstValue("x-echo-uri").orElseThrow());
    assertEquals(202, get("/anything?q=1").statusCode());
  }

  @Test
  void virtualHostsByDomain() throws Exception {
    assertEquals("other vhost", get("/x", "host", "other.example.com").body());
    assertEquals("other vhost", get("/x", "host", "a.wild.example.com").body());
    assertEquals(200, get("/ok", "host", "wild.example.com").statusCode()); // "*." needs a label before the suffix
  }

  @Test
  void hostRewrite() throws Exception {
    HttpResponse<String> r = get("/host");
    assertEquals("rewritten.example", r.headers().firstValue("x-echo-h-host").orElseThrow());
  }

  @Test
  void directResponseAndRedirect() throws Exception {
    HttpResponse<String> d = get("/direct");
    assertEquals(418, d.statusCode());
    assertEquals("teapot", d.body());
    HttpResponse<String> r = get("/old/page?a=b");
    assertEquals(307, r.statusCode());
    assertEquals("http://127.0.0.1:" + proxy.port("http") + "/new?a=b",
        r.headers().firstValue("location").orElseThrow());
  }

  @Test
  void localRepliesLikeEnvoys() throws Exception {
    HttpResponse<String> nc = get("/nocluster");
    assertEquals(503, nc.statusCode());
    HttpResponse<String> uf = get("/dead");
    assertEquals(503, uf.statusCode());
    assertEquals("upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        uf.body());
    HttpResponse<String> ut = get("/slow/2000");
    assertEquals(504, ut.statusCode());
    assertEquals("upstream request timeout", ut.body());
    HttpResponse<String> reset = get("/reset");
    assertEquals(503, reset.statusCode());
    assertTrue(reset.body().startsWith("upstream connect error or disconnect/reset before headers"), reset.body());
    assertTrue(proxy.stat("cluster.backend.upstream_rq_timeout") >= 1);
  }

  @Test
  void grpcLocalReplyIsTrailersOnly() throws Exception {
    HttpResponse<String> r = get("/nocluster", "content-type", "application/grpc");
    assertEquals(200, r.statusCode());
    assertEquals("14", r.headers().firstValue("grpc-status").orElseThrow());
    assertEquals("application/grpc", r.headers().firstValue("content-type").orElseThrow());
  }

  @Test
  void postBodyStreamsBothWays() throws Exception {
    byte[] body = new byte[300_000];
    new java.util.Random(1).nextBytes(body);
    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/post"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    assertTrue(java.util.Arrays.equals(body, r.body()));
  }

  @Test
  void chunkedUploadAndPipelining() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      raw.send("POST /echo/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
          + "GET /echo/second HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /echo/third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      String all = raw.readAll(3000);
      int first = all.indexOf("hello world");
      int second = all.indexOf("x-echo-uri: /echo/second");
      int third = all.indexOf("x-echo-uri: /echo/third");
      assertTrue(first > 0 && second > first && third > second, all);
      assertTrue(all.contains("connection: close"), all);
    }
  }

  @Test
  void aPipelinedRequestsBodyGoesUpstreamWhenItsTurnComes() throws Exception {
    // the body arrives in the same read as the request before it and waits in the queue: when that request's
    // response ends it is written upstream outside any read, and must be flushed there
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      raw.send("GET /echo/first HTTP/1.1\r\nHost: x\r\n\r\n"
          + "POST /echo/second HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world");
      String all = raw.readAll(3000);
      int first = all.indexOf("x-echo-uri: /echo/first");
      int second = all.indexOf("x-echo-uri: /echo/second");
      assertTrue(first > 0 && second > first && all.endsWith("hello world"), all);
    }
  }

  @Test
  void http10AndExpectContinue() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("GET /echo/ten HTTP/1.0\r\n\r\n").readAll(2000);
      assertTrue(r.startsWith("HTTP/1.0 200"), r);
      assertTrue(r.toLowerCase().contains("connection: close"), r);
    }
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      raw.send("POST /echo/expect HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      String interim = raw.readAll(500);
      assertTrue(interim.startsWith("HTTP/1.1 100 Continue"), "[" + interim + "]");
      String r = raw.send("body").readAll(1000);
      assertTrue(r.startsWith("HTTP/1.1 200"), r);
      assertFalse(r.contains("x-echo-h-expect"), "Expect is answered by the proxy, never forwarded");
    }
  }

  /**
   * HTTP/1.0 has no chunks: a response of unknown length is framed by the close (Connection: close), as Envoy frames
   * it, and a kept-alive 1.0 connection is told so (Connection: keep-alive), or its client would close it.
   */
  @Test
  void http10ResponsesAreFramedForHttp10() throws Exception {
    java.util.List<java.net.Socket> held = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    try (ServerSocket up = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try {
          while (true) {
            java.net.Socket c = up.accept();
            held.add(c);
            Thread r = new Thread(() -> {
              try {
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                    c.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                for (String line; (line = in.readLine()) != null; ) {
                  boolean chunked = line.startsWith("GET /chunked");
                  for (String field = in.readLine(); field != null && !field.isEmpty(); field = in.readLine()) {
                    // the rest of the head
                  }
                  c.getOutputStream().write((chunked
                      ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                      : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                }
              } catch (java.io.IOException ignored) {
                // closed
              }
            });
            r.setDaemon(true);
            r.start();
          }
        } catch (java.io.IOException ignored) {
          // the server socket closed: the test is over
        }
      });
      t.setDaemon(true);
      t.start();
      try (ProxyHarness p = ProxyHarness.start(ProxyHarness.simpleHttp("http_protocol_options: {accept_http_10: true}",
          ""), Map.of("BACKEND", up.getLocalPort()))) {
        try (RawHttp raw = new RawHttp(p.port("http"))) {
          String r = raw.send("GET /chunked HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n").readAll(1000);
          assertTrue(r.startsWith("HTTP/1.0 200"), r);
          assertFalse(r.contains("transfer-encoding"), r);
          assertTrue(r.contains("connection: close"), r);
          assertTrue(r.endsWith("\r\n\r\nhello world"), r);
          assertTrue(raw.closedWithin(1000), "the close ends the body");
        }
        try (RawHttp raw = new RawHttp(p.port("http"))) {
          for (int i = 0; i < 2; i++) {
            String r = raw.send("GET /length HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n").readAll(500);
            assertTrue(r.startsWith("HTTP/1.0 200"), r);
            assertTrue(r.contains("connection: keep-alive"), r);
            assertTrue(r.endsWith("\r\n\r\nok"), r);
          }
        }
      } finally {
        for (java.net.Socket c : held) {
          c.close();
        }
      }
    }
  }

  @Test
  void http10IsRefusedWithEnvoysDefault() throws Exception {
    try (ProxyHarness p = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()));
        RawHttp raw = new RawHttp(p.port("http"))) {
      String r = raw.send("GET /echo HTTP/1.0\r\n\r\n").readAll(2000);
      assertEquals(426, RawHttp.status(r), r);
    }
  }

  @Test
  void noRouteIs404() throws Exception {
    String yaml = ProxyHarness.simpleHttp("", "").replace("domains: [\"*\"]", "domains: [\"only.example.com\"]");
    try (ProxyHarness p = ProxyHarness.start(yaml, Map.of("BACKEND", backend.port()))) {
      int before = backend.received.size();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("http", "/echo")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(404, r.statusCode());
      assertEquals(before, backend.received.size(), "nothing reaches the upstream");
      assertEquals(1, p.stat("http.ingress.no_route"));
    }
  }

  @Test
  void statsAndAdmin() throws Exception {
    get("/ok");
    assertTrue(proxy.stat("http.ingress.downstream_rq_total") > 0);
    assertTrue(proxy.stat("http.ingress.downstream_rq_2xx") > 0);
    assertTrue(proxy.stat("cluster.backend.upstream_rq_200") > 0);
    assertTrue(proxy.admin("/stats").contains("listener.127.0.0.1_0.downstream_cx_total"));
    assertEquals("LIVE\n", proxy.admin("/ready"));
    String prom = proxy.admin("/stats/prometheus");
    assertTrue(prom.contains("envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"backend\"}")
        || prom.contains("envoy_cluster_upstream_rq{envoy_cluster_name=\"backend\",envoy_response_code=\"200\"}"),
        prom);
    assertTrue(prom.contains("envoy_cluster_upstream_rq_time_bucket"), prom);
    String dump = proxy.admin("/config_dump");
    assertTrue(dump.contains("type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"), dump);
    assertTrue(dump.contains("\"static_clusters\""));
    assertTrue(proxy.admin("/clusters").contains("backend::127.0.0.1:" + backend.port() + "::health_flags::healthy"));
    assertTrue(proxy.admin("/listeners").startsWith("http::127.0.0.1:"));
    assertTrue(proxy.admin("/server_info").contains("\"state\": \"LIVE\""));
    assertEquals(405, proxy.adminResponse("GET", "/quitquitquit").statusCode());
    assertEquals(200, proxy.adminResponse("POST", "/logging?http=debug").statusCode());
    assertTrue(proxy.admin("/logging").contains("http: debug"));
    assertEquals(200, proxy.adminResponse("POST", "/logging?http=info").statusCode());
    assertNotNull(URI.create("http://x"));
  }
}
