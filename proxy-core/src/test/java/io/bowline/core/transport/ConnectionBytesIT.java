package io.bowline.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestCerts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Envoy's connection byte stats: {@code downstream_cx_rx/tx_bytes_total} of connection managers and TCP proxies,
 * {@code upstream_cx_rx/tx_bytes_total} and {@code upstream_cx_length_ms} of clusters, and the
 * {@code *_tx_bytes_buffered} gauges, each held to the bytes that real sockets at both ends sent and received.
 */
@ExtendWith(LeakGuard.class)
class ConnectionBytesIT {
  private static final String HCM = """
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: PREFIX
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/tls/"}
                        route: {cluster: tls_raw}
                      - match: {prefix: "/h2/"}
                        route: {cluster: h2_raw}
                      - match: {prefix: "/big"}
                        route: {cluster: big}
                      - match: {prefix: "/close"}
                        route: {cluster: closing}
                      - match: {prefix: "/"}
                        route: {cluster: raw}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
      """;
  private static final String YAML = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: http
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
      HCM_PLAIN
        - name: tls
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                common_tls_context:
                  alpn_protocols: [h2, http/1.1]
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
            filters:
      HCM_SECURE
        - name: tcp
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: relay, cluster: echo}
        clusters:
        - {name: raw, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: raw, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RAW}}}}}]}]}}
        - {name: tls_raw, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: tls_raw, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RAW}}}}}]}]}}
        - {name: h2_raw, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: h2_raw, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RAW}}}}}]}]}}
        - {name: big, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: big, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RAW}}}}}]}]}}
        - {name: closing, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: closing, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RAW}}}}}]}]}}
        - {name: idle, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: idle, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${RAW}}}}}]}]}}
        - {name: echo, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: echo, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${ECHO}}}}}]}]}}
      """.replace("HCM_PLAIN", HCM.replace("PREFIX", "plain")).replace("HCM_SECURE", HCM.replace("PREFIX", "secure"));
  private static final int BIG = 24 << 20; // more than loopback's socket buffers on both sides can hold

  static RawBackend raw;
  static EchoBackend echo;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    raw = new RawBackend();
    echo = new EchoBackend();
    TestCerts.Pem pem = TestCerts.selfSigned("localhost");
    proxy = ProxyHarness.start(YAML, Map.of("RAW", raw.port(), "ECHO", echo.port(),
        "CERT", TestCerts.Pem.yaml(pem.certificate()), "KEY", TestCerts.Pem.yaml(pem.privateKey())));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    raw.close();
    echo.close();
  }

  @Test
  void http1CountsEveryByteBothWays() throws Exception {
    long backendIn = raw.read.get();
    long backendOut = raw.written.get();
    long rx = proxy.stat("http.plain.downstream_cx_rx_bytes_total");
    long tx = proxy.stat("http.plain.downstream_cx_tx_bytes_total");
    String requests = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
        + "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world";
    byte[] response;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port("http"))) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(requests.getBytes(StandardCharsets.US_ASCII));
      response = readToEnd(s.getInputStream());
    }
    String text = new String(response, StandardCharsets.US_ASCII);
    assertEquals(2, text.split("HTTP/1.1 200 OK", -1).length - 1, text);
    assertEquals(requests.length(), proxy.stat("http.plain.downstream_cx_rx_bytes_total") - rx);
    assertEquals(response.length, proxy.stat("http.plain.downstream_cx_tx_bytes_total") - tx);
    assertEquals(raw.read.get() - backendIn, proxy.stat("cluster.raw.upstream_cx_tx_bytes_total"));
    assertEquals(raw.written.get() - backendOut, proxy.stat("cluster.raw.upstream_cx_rx_bytes_total"));
    assertTrue(raw.written.get() - backendOut > 0);
    // the cluster's computed gauge replaces the zero shown before its first request: one line, not two
    String stats = proxy.admin("/stats");
    assertEquals(1, stats.split("cluster\\.raw\\.upstream_cx_tx_bytes_buffered: ", -1).length - 1, stats);
    assertEquals(0, proxy.stat("cluster.raw.upstream_cx_tx_bytes_buffered"));
    assertEquals(0, proxy.stat("cluster.idle.upstream_cx_tx_bytes_buffered")); // never used: shown as 0
    assertEquals(0, proxy.stat("cluster.idle.upstream_cx_rx_bytes_total"));
  }

  @Test
  void tlsIsCountedAsThePlainBytesTheCodecsSee() throws Exception {
    String request = "GET /tls/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    long rx = proxy.stat("http.secure.downstream_cx_rx_bytes_total");
    long tx = proxy.stat("http.secure.downstream_cx_tx_bytes_total");
    byte[] response;
    try (SSLSocket s = (SSLSocket) TestCerts.trustAll().getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
        proxy.port("tls"))) {
      s.setSoTimeout(5000);
      s.startHandshake();
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      response = readToEnd(s.getInputStream());
    }
    assertTrue(new String(response, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200 OK"));
    assertEquals(request.length(), proxy.stat("http.secure.downstream_cx_rx_bytes_total") - rx);
    assertEquals(response.length, proxy.stat("http.secure.downstream_cx_tx_bytes_total") - tx);
  }

  @Test
  void http2FramesAreCounted() throws Exception {
    long rx = proxy.stat("http.secure.downstream_cx_rx_bytes_total");
    long tx = proxy.stat("http.secure.downstream_cx_tx_bytes_total");
    HttpClient c = HttpClient.newBuilder().sslContext(TestCerts.trustAll()).version(HttpClient.Version.HTTP_2).build();
    HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port("tls")
        + "/h2/sized/100000")).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    assertEquals(HttpClient.Version.HTTP_2, r.version());
    assertEquals(100_000, r.body().length);
    long up = proxy.stat("cluster.h2_raw.upstream_cx_rx_bytes_total");
    assertTrue(up > 100_000 && up < 100_400, "upstream bytes in: " + up);
    // the body, in DATA frames of 9 bytes' header each, plus the SETTINGS, HEADERS and window updates around it
    long down = proxy.stat("http.secure.downstream_cx_tx_bytes_total") - tx;
    assertTrue(down > 100_000 && down < 104_000, "h2 bytes out: " + down);
    assertTrue(proxy.stat("http.secure.downstream_cx_rx_bytes_total") - rx > 24, "at least the client preface");
  }

  @Test
  void tcpProxyCountsBothSidesAndTheUpstreamLifetime() throws Exception {
    byte[] payload = new byte[10_000];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) i;
    }
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port("tcp"))) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(payload);
      byte[] back = s.getInputStream().readNBytes(payload.length);
      assertEquals(payload.length, back.length);
    }
    proxy.awaitStat("tcp.relay.downstream_cx_rx_bytes_total", 10_000);
    proxy.awaitStat("tcp.relay.downstream_cx_tx_bytes_total", 10_000);
    proxy.awaitStat("cluster.echo.upstream_cx_tx_bytes_total", 10_000);
    proxy.awaitStat("cluster.echo.upstream_cx_rx_bytes_total", 10_000);
    awaitPrometheus("envoy_cluster_upstream_cx_length_ms_count{envoy_cluster_name=\"echo\"} 1");
  }

  @Test
  void anUpstreamConnectionsLifetimeIsRecordedWhenItCloses() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port("http"))) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET /close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      assertTrue(new String(readToEnd(s.getInputStream()), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
    }
    awaitPrometheus("envoy_cluster_upstream_cx_length_ms_count{envoy_cluster_name=\"closing\"} 1");
    assertTrue(proxy.admin("/stats/prometheus").contains(
        "envoy_cluster_upstream_cx_length_ms_count{envoy_cluster_name=\"raw\"} 0"), "pooled: still open");
  }

  @Test
  void unsentBytesShowWhileAClientDoesNotRead() throws Exception {
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(16 * 1024);
      s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port("http")));
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      long deadline = System.nanoTime() + 10_000_000_000L;
      long buffered = 0;
      while (buffered == 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
        buffered = proxy.stat("http.plain.downstream_cx_tx_bytes_buffered");
      }
      assertTrue(buffered > 0, "the proxy holds what the client has not taken");
      long total = readToEnd(s.getInputStream()).length;
      assertTrue(total > BIG, "the whole response arrives: " + total);
    }
    proxy.awaitStat("http.plain.downstream_cx_tx_bytes_buffered", 0);
  }

  private static void awaitPrometheus(String line) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    String text;
    while (!(text = proxy.admin("/stats/prometheus")).contains(line) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(text.contains(line), line);
  }

  private static byte[] readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  /**
   * An HTTP/1.1 server on plain sockets that counts every byte it reads and writes. Requests have no body or a
   * Content-Length; {@code /sized/N} answers N bytes, {@code /big} {@link #BIG}, {@code /close} closes after its
   * answer, anything else answers "ok".
   */
  static final class RawBackend implements AutoCloseable {
    final AtomicLong read = new AtomicLong();
    final AtomicLong written = new AtomicLong();
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

    RawBackend() throws IOException {
      Thread t = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket s = server.accept();
            Thread c = new Thread(() -> serve(s), "raw-backend-conn");
            c.setDaemon(true);
            c.start();
          } catch (IOException e) {
            return; // closed
          }
        }
      }, "raw-backend");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        while (true) {
          String head = readHead(in);
          if (head == null) {
            return;
          }
          int length = contentLength(head);
          byte[] body = in.readNBytes(length);
          read.addAndGet(body.length);
          String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
          boolean close = path.startsWith("/close");
          int size = path.startsWith("/big") ? BIG
              : path.contains("/sized/") ? Integer.parseInt(path.substring(path.lastIndexOf('/') + 1)) : 2;
          byte[] responseHead = ("HTTP/1.1 200 OK\r\ncontent-length: " + size + "\r\n"
              + (close ? "connection: close\r\n" : "") + "\r\n").getBytes(StandardCharsets.US_ASCII);
          out.write(responseHead);
          written.addAndGet(responseHead.length);
          byte[] chunk = new byte[64 * 1024];
          java.util.Arrays.fill(chunk, (byte) 'o');
          for (int left = size; left > 0; left -= chunk.length) {
            int n = Math.min(left, chunk.length);
            out.write(chunk, 0, n);
            written.addAndGet(n);
          }
          out.flush();
          if (close) {
            return;
          }
        }
      } catch (IOException e) {
        // the proxy went away
      }
    }

    /** The head up to its blank line (counted), or null at the end of the stream. */
    private String readHead(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        read.incrementAndGet();
        b.append((char) c);
        if (b.length() >= 4 && b.lastIndexOf("\r\n\r\n") == b.length() - 4) {
          return b.toString();
        }
      }
      return null;
    }

    private static int contentLength(String head) {
      for (String line : head.split("\r\n")) {
        if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
          return Integer.parseInt(line.substring(15).trim());
        }
      }
      return 0;
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /** Writes back whatever it reads, until the peer closes. */
  static final class EchoBackend implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

    EchoBackend() throws IOException {
      Thread t = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            s.getInputStream().transferTo(s.getOutputStream());
          } catch (IOException e) {
            // closed
          }
        }
      }, "echo-backend");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
