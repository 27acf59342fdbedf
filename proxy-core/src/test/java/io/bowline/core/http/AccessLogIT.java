package io.bowline.core.http;

import static io.bowline.core.testing.LogFiles.awaitLines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.xds.ConfigException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access logs through a real proxy: Istio's text format and a filtered JSON log on the HCM, the tcp_proxy's log,
 * the listener's NR log, log rotation with /reopen_logs, and bad formats refused by field path.
 */
@ExtendWith(LeakGuard.class)
class AccessLogIT {
  /** Istio's sidecar format, as istiod sends it (../shared/fixtures/istio/sidecar). */
  private static final String ISTIO_FORMAT = "[%START_TIME%] \\\"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
      + "%PROTOCOL%\\\" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
      + "\\\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\\\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \\\"%REQ(X-FORWARDED-FOR)%\\\" \\\"%REQ(USER-AGENT)%\\\" "
      + "\\\"%REQ(X-REQUEST-ID)%\\\" \\\"%REQ(:AUTHORITY)%\\\" \\\"%UPSTREAM_HOST%\\\" %UPSTREAM_CLUSTER% "
      + "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
      + "%ROUTE_NAME%\\n";

  private static String bootstrap(String hcmLogs, String tcpLogs, String listenerLogs) {
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
                  stat_prefix: in
                  access_log: HCM_LOGS
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{name: to-backend, match: {prefix: "/"}, route: {cluster: backend}}]
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: backend
                  access_log: TCP_LOGS
          - name: tls-only
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            access_log: LISTENER_LOGS
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
            filter_chains:
            - filter_chain_match: {transport_protocol: tls}
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tls
                  cluster: backend
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("HCM_LOGS", hcmLogs).replace("TCP_LOGS", tcpLogs).replace("LISTENER_LOGS", listenerLogs);
  }

  private static String file(Path p, String format) {
    return "{name: envoy.access_loggers.file, typed_config: {\"@type\": type.googleapis.com/envoy.extensions"
        + ".access_loggers.file.v3.FileAccessLog, path: \"" + p + "\"" + format + "}}";
  }

  @Test
  void hcmTcpAndListenerLogs(@TempDir Path dir) throws Exception {
    Path istio = dir.resolve("istio.log");
    Path errors = dir.resolve("errors.json");
    Path tcp = dir.resolve("tcp.log");
    Path nr = dir.resolve("nr.log");
    String hcmLogs = "[" + file(istio, ", log_format: {text_format_source: {inline_string: \"" + ISTIO_FORMAT + "\"}}")
        + ", {name: errors, filter: {status_code_filter: {comparison: {op: GE, value: {default_value: 400, "
        + "runtime_key: unused}}}}, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers"
        + ".file.v3.FileAccessLog, path: \"" + errors + "\", log_format: {json_format: {code: \"%RESPONSE_CODE%\", "
        + "path: \"%REQ(:PATH)%\", flags: \"%RESPONSE_FLAGS%\", upstream: {cluster: \"%UPSTREAM_CLUSTER%\", "
        + "host: \"%UPSTREAM_HOST%\"}, bytes: \"%BYTES_SENT%\", route: \"%ROUTE_NAME%\"}}}}]";
    String tcpLogs = "[" + file(tcp, ", log_format: {text_format_source: {inline_string: \"%BYTES_RECEIVED% "
        + "%BYTES_SENT% %UPSTREAM_CLUSTER% %UPSTREAM_HOST% %RESPONSE_FLAGS% %ACCESS_LOG_TYPE%\\n\"}}") + "]";
    String listenerLogs = "[{name: envoy.access_loggers.file, filter: {response_flag_filter: {flags: [NR]}}, "
        + "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, "
        + "path: \"" + nr + "\", log_format: {text_format_source: {inline_string: \"%RESPONSE_FLAGS% "
        + "%RESPONSE_CODE_DETAILS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%\\n\"}}}}]";
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(bootstrap(hcmLogs, tcpLogs, listenerLogs),
            Map.of("PORT", backend.port()), "--file-flush-interval-msec", "20")) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> ok = client.send(HttpRequest.newBuilder(proxy.uri("http", "/size/100?x=1"))
          .header("User-Agent", "it/1").header("x-request-id", "rid-1").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ok.statusCode());
      client.send(HttpRequest.newBuilder(proxy.uri("http", "/status/503")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.discarding());
      try (Socket s = new Socket("127.0.0.1", proxy.port("tcp"))) {
        s.setSoTimeout(5000);
        byte[] req = "GET /size/10 HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        s.getOutputStream().write(req);
        byte[] all = readResponse(s);
        assertTrue(new String(all, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 200"));
        s.close(); // the entry is written when the connection ends
        awaitLines(tcp, 1);
        String[] t = Files.readAllLines(tcp).get(0).split(" ");
        assertEquals(String.valueOf(req.length), t[0]);
        assertEquals(String.valueOf(all.length), t[1]);
        assertEquals(List.of("backend", "127.0.0.1:" + backend.port(), "-", "TcpConnectionEnd"),
            List.of(t[2], t[3], t[4], t[5]));
      }
      try (Socket s = new Socket("127.0.0.1", proxy.port("tls-only"))) {
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-1, s.getInputStream().read(), "no filter chain for plaintext: closed");
      }
      awaitLines(nr, 1);
      assertEquals(List.of("NR filter_chain_not_found 127.0.0.1"), Files.readAllLines(nr));

      List<String> lines = awaitLines(istio, 2);
      String first = lines.get(0);
      assertTrue(first.matches("\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z] \"GET /size/100\\?x=1 HTTP/1.1\" "
          + "200 - via_upstream - \"-\" 0 100 \\d+ \\d+ \"-\" \"it/1\" \"rid-1\" \"127.0.0.1:\\d+\" "
          + "\"127.0.0.1:" + backend.port() + "\" backend 127.0.0.1:\\d+ 127.0.0.1:" + proxy.port("http")
          + " 127.0.0.1:\\d+ - to-backend"), first);
      assertTrue(lines.get(1).contains("\"GET /status/503 HTTP/1.1\" 503 - via_upstream"), lines.get(1));

      List<String> json = awaitLines(errors, 1);
      assertEquals(1, json.size(), "only the 503 passes the status filter: " + json);
      JsonObject o = JsonParser.parseString(json.get(0)).getAsJsonObject();
      assertEquals(503, o.get("code").getAsInt());
      assertTrue(o.get("code").getAsJsonPrimitive().isNumber(), "json_format keeps numbers numbers");
      assertEquals("/status/503", o.get("path").getAsString());
      assertEquals("backend", o.getAsJsonObject("upstream").get("cluster").getAsString());
      assertEquals("to-backend", o.get("route").getAsString());
      assertTrue(proxy.stat("filesystem.write_completed") >= 5, "every entry was written");
      // Envoy's connection-manager and server stats beside the logs
      assertEquals(2, proxy.stat("http.in.downstream_rq_completed"));
      assertTrue(proxy.stat("http.in.downstream_cx_http1_active") >= 0);
      assertTrue(proxy.stat("server.memory_allocated") > 0 && proxy.stat("server.memory_physical_size") > 0);
      assertTrue(proxy.admin("/stats").contains("http.in.downstream_cx_length_ms: "), "a histogram");
      assertEquals(0, proxy.stat("filesystem.write_dropped"));
    }
  }

  /**
   * %REQ(...)% prints the request as it was forwarded (the headers are captured then): a header the route adds and
   * the authority it rewrites; a request answered locally is logged from its headers as they are. The upstream
   * connection's local address, over HTTP/1.1 and HTTP/2.
   */
  @Test
  void requestHeadersAreLoggedAsForwarded(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("req.log");
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
                  stat_prefix: in
                  access_log: [LOG]
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/local"}
                        direct_response: {status: 204}
                      - match: {prefix: "/h2"}
                        route: {cluster: backend_h2}
                      - match: {prefix: "/"}
                        route: {cluster: backend, host_rewrite_literal: rewritten.example}
                        request_headers_to_add: [{header: {key: x-added, value: by-route}}]
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: backend_h2
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment: {cluster_name: backend_h2, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("LOG", file(log, ", log_format: {text_format_source: {inline_string: \"%REQ(:PATH)% "
        + "%REQ(X-ADDED)% %REQ(:AUTHORITY)% %REQ(USER-AGENT)% %STREAM_ID% %UPSTREAM_PROTOCOL% "
        + "%UPSTREAM_LOCAL_ADDRESS%\\n\"}}"));
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port()),
            "--file-flush-interval-msec", "20")) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String path : List.of("/up", "/local", "/h2/a", "/h2/b")) {
        client.send(HttpRequest.newBuilder(proxy.uri("http", path)).header("User-Agent", "it/2")
            .header("x-request-id", "rid" + path).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      List<String> lines = awaitLines(log, 4);
      assertTrue(lines.get(0).matches("/up by-route rewritten\\.example it/2 rid/up HTTP/1\\.1 127\\.0\\.0\\.1:\\d+"),
          lines.get(0));
      assertTrue(lines.get(1).matches("/local - 127\\.0\\.0\\.1:\\d+ it/2 rid/local - -"), lines.get(1));
      // both streams on the one HTTP/2 connection: the same local address, kept by the connection
      String[] a = lines.get(2).split(" ");
      String[] b = lines.get(3).split(" ");
      assertEquals(List.of("/h2/a", "HTTP/2"), List.of(a[0], a[5]), lines.get(2));
      assertEquals(List.of("/h2/b", "HTTP/2", a[6]), List.of(b[0], b[5], b[6]), lines.get(3));
      assertTrue(a[6].matches("127\\.0\\.0\\.1:\\d+"), a[6]);
    }
  }

  @Test
  void reopenLogsFollowsRotation(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("access.log");
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(bootstrap("[" + file(log, "") + "]", "[]", "[]"),
            Map.of("PORT", backend.port()), "--file-flush-interval-msec", "20")) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      client.send(HttpRequest.newBuilder(proxy.uri("http", "/size/1")).build(), HttpResponse.BodyHandlers.discarding());
      awaitLines(log, 1);
      Path rotated = dir.resolve("access.log.1");
      Files.move(log, rotated);
      assertEquals(200, proxy.adminResponse("POST", "/reopen_logs").statusCode());
      client.send(HttpRequest.newBuilder(proxy.uri("http", "/size/2")).build(), HttpResponse.BodyHandlers.discarding());
      List<String> fresh = awaitLines(log, 1);
      assertTrue(fresh.get(0).contains("\"GET /size/2 HTTP/1.1\" 200 - 0 2 "), "Envoy's default format: " + fresh);
      assertEquals(1, Files.readAllLines(rotated).size(), "the rotated file keeps only what was written before");
    }
  }

  @Test
  void badFormatsAreRefusedByFieldPath(@TempDir Path dir) {
    Exception e = assertThrows(Exception.class, () -> ProxyHarness.start(bootstrap("[" + file(dir.resolve("a"),
        ", log_format: {text_format_source: {inline_string: \"%RESPONSE_CODE% %NOPE%\"}}") + "]", "[]", "[]"),
        Map.of("PORT", 1)).close());
    ConfigException c = cause(e);
    assertEquals("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config"
        + ".log_format.text_format_source", c.fieldPath());
    assertTrue(c.getMessage().contains("Not supported field in StreamInfo: NOPE"), c.getMessage());
    e = assertThrows(Exception.class, () -> ProxyHarness.start(bootstrap("[]", "[]", "[{name: x, filter: "
        + "{response_flag_filter: {flags: [XX]}}, typed_config: {\"@type\": type.googleapis.com/envoy.extensions"
        + ".access_loggers.stream.v3.StdoutAccessLog}}]"), Map.of("PORT", 1)).close());
    c = cause(e);
    assertEquals("static_resources.listeners[2].access_log[0].filter.response_flag_filter.flags[0]", c.fieldPath());
  }

  /** One HTTP/1.1 response with a Content-Length, read whole. */
  private static byte[] readResponse(Socket s) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (true) {
      int n = s.getInputStream().read(buf);
      if (n < 0) {
        return out.toByteArray();
      }
      out.write(buf, 0, n);
      String text = out.toString(StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      if (end > 0) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(text);
        if (m.find() && text.length() >= end + 4 + Integer.parseInt(m.group(1))) {
          return out.toByteArray();
        }
      }
    }
  }

  private static ConfigException cause(Throwable t) {
    for (Throwable x = t; x != null; x = x.getCause()) {
      if (x instanceof ConfigException c) {
        return c;
      }
    }
    throw new AssertionError("no ConfigException in " + t, t);
  }

}
