package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The HTTP/1.1 and limits rows of ../shared/HOSTILE-INPUTS.md, over raw sockets. Each case checks the answer, that
 * nothing of a rejected request reached the upstream (U0), that the connection closed, and that a valid request on
 * a new connection is still served.
 */
@ExtendWith(LeakGuard.class)
class HostileInputsIT {
  static TestBackend backend;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    proxy = ProxyHarness.start(ProxyHarness.simpleHttp("""
        request_headers_timeout: 1s
        stream_idle_timeout: 2s
        common_http_protocol_options: {idle_timeout: 3s}
        upgrade_configs: [{upgrade_type: websocket}]
        """, ""), Map.of("BACKEND", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  @AfterEach
  void validRequestStillServed() throws Exception {
    RawHttp.assertStillServed(proxy.port("http"));
  }

  private void expectRejected(String request, int status) throws Exception {
    int before = backend.received.size();
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send(request).readAll(1500);
      String shown = request.length() > 300 ? request.substring(0, 300) + "..." : request;
      assertEquals(status, RawHttp.status(r), "for:\n" + shown + "\ngot:\n" + r);
      assertTrue(r.toLowerCase().contains("connection: close"), r);
      assertTrue(raw.closedWithin(1000), "connection must close after a rejection");
    }
    assertEquals(before, backend.received.size(), "U0: nothing of a rejected request reaches the upstream");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "H1-01 CL and TE|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n|400",
      "H1-02 conflicting CL|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\nhello|400",
      "H1-02 CL list|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5, 6\\r\\n\\r\\nhello|400",
      "H1-02 CL plus sign|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: +5\\r\\n\\r\\nhello|400",
      "H1-02 CL negative|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: -1\\r\\n\\r\\n|400",
      "H1-02 CL hex|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0x5\\r\\n\\r\\nhello|400",
      "H1-02 CL overflow|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 99999999999999999999\\r\\n\\r\\n|400",
      "H1-03 chunked not last|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked, gzip\\r\\n\\r\\n0\\r\\n\\r\\n|400",
      "H1-03 identity|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: identity\\r\\n\\r\\n|400",
      "H1-03 xchunked|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: xchunked\\r\\n\\r\\n|400",
      "H1-05 space before colon|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding : chunked\\r\\n\\r\\n0\\r\\n\\r\\n|400",
      "H1-05 obs-fold|GET /echo HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\r\\n b\\r\\n\\r\\n|400",
      "H1-06 bare LF|GET /echo HTTP/1.1\\nHost: x\\n\\n|400",
      "H1-07 bad chunk size|POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\ng\\r\\nhello\\r\\n0\\r\\n\\r\\n|400",
      "H1-10 CTL in value|GET /echo HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\u0001b\\r\\n\\r\\n|400",
      "H1-10 bad header name|GET /echo HTTP/1.1\\r\\nHost: x\\r\\nX A: b\\r\\n\\r\\n|400",
      "H1-11 extra space in request line|GET  /echo HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400",
      "H1-11 HTTP/2.0 request line|GET /echo HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n|505",
      "H1-12 no Host|GET /echo HTTP/1.1\\r\\n\\r\\n|400",
      "H1-12 two Hosts|GET /echo HTTP/1.1\\r\\nHost: x\\r\\nHost: y\\r\\n\\r\\n|400",
      "H1-12 Host with @|GET /echo HTTP/1.1\\r\\nHost: a@b\\r\\n\\r\\n|400",
      "H1-18 unknown expectation|GET /echo HTTP/1.1\\r\\nHost: x\\r\\nExpect: magic\\r\\n\\r\\n|417",
      "PATH-04 fragment|GET /echo#x HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400",
      "PATH-07 NUL|GET /echo%00 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400",
      "PATH-07 bad escape|GET /echo%zz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400"})
  void rejected(String name, String request, int status) throws Exception {
    expectRejected(unescape(request), status);
  }

  private static String unescape(String s) {
    return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0001", "\u0001");
  }

  @Test
  void pipelinedRequestAfterAnInvalidOneIsNeverParsed() throws Exception {
    int before = backend.requestsTo("/admin");
    expectRejected("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"
        + "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    assertEquals(before, backend.requestsTo("/admin"));
  }

  @Test
  void mixedCaseChunkedIsChunked() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("POST /echo/te HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n"
          + "3\r\nabc\r\n0\r\n\r\n").readAll(1500);
      assertEquals(200, RawHttp.status(r), r);
      assertTrue(r.endsWith("abc"), r);
    }
  }

  @Test
  void identicalDuplicateContentLengthIsForwardedOnce() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("POST /echo/cl HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
          .readAll(1500);
      assertTrue(RawHttp.status(r) == 200 || RawHttp.status(r) == 400, r);
    }
  }

  @Test
  void headersTooLargeAndTooMany() throws Exception {
    expectRejected("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(61 * 1024) + "\r\n\r\n", 431);
    StringBuilder many = new StringBuilder("GET /echo HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 101; i++) {
      many.append("X-H").append(i).append(": v\r\n");
    }
    expectRejected(many.append("\r\n").toString(), 431);
  }

  @Test
  void longUriIs414() throws Exception {
    expectRejected("GET /" + "a".repeat(61 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414);
  }

  @Test
  void slowlorisGets408AtTheHeadersTimeout() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      raw.send("GET /echo HTTP/1.1\r\nHost: x\r\n");
      long start = System.nanoTime();
      String r = raw.readAll(4000);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(408, RawHttp.status(r), r);
      assertTrue(ms < 3500, "took " + ms + " ms");
    }
  }

  @Test
  void idleKeepAliveConnectionIsClosed() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").readAll(500);
      assertEquals(200, RawHttp.status(r));
      assertTrue(raw.closedWithin(6000), "idle_timeout 3s closes the connection");
    }
  }

  @Test
  void h2cUpgradeOnTlsOrUnwantedIsNotForwarded() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("GET /echo/up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n")
          .readAll(1500);
      assertEquals(403, RawHttp.status(r), "an upgrade the route does not allow is refused: " + r);
    }
  }

  private static final int BAD_CHUNK = 2;

  /**
   * H1-17: an upstream response with CL+TE, duplicate Content-Length, a bad chunk, a bare LF, oversized headers,
   * 1,000 × 100 Continue or a Transfer-Encoding other than chunked is a 502 (so is one with more fields than the cluster's max_headers_count), and its
   * connection is closed, never reused: the fake upstream answers each connection once and then keeps it open without
   * reading, so a request sent on a reused connection would never be answered.
   */
  @Test
  void upstreamProtocolViolationIs502() throws Exception {
    String[] responses = {
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
        "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(70_000) + "\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n" + "X-N: 1\r\n".repeat(101) + "Content-Length: 0\r\n\r\n", // max_headers_count 100
        "HTTP/1.1 100 Continue\r\n\r\n".repeat(1000) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        // a coding bowline does not decode: once the hop-by-hop field is dropped the client would take gzip for text
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    };
    java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    java.util.List<java.net.Socket> held = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    try (java.net.ServerSocket bad = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try {
          while (true) {
            java.net.Socket s = bad.accept();
            held.add(s);
            int i = accepted.getAndIncrement();
            s.getInputStream().read(new byte[4096]);
            s.getOutputStream().write(responses[Math.min(i, responses.length - 1)]
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
          }
        } catch (Exception ignored) {
          // the server socket closed: the test is over
        }
      });
      t.start();
      try (ProxyHarness p = ProxyHarness.start(ProxyHarness.simpleHttp("", ""),
          Map.of("BACKEND", bad.getLocalPort()))) {
        for (int i = 0; i < responses.length; i++) {
          try (RawHttp raw = new RawHttp(p.port("http"))) {
            String r = raw.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n").readAll(1500);
            if (i == BAD_CHUNK) {
              // the head was valid and may already be on its way: the downstream exchange is cut short instead
              assertTrue(RawHttp.status(r) == -1 || !r.endsWith("0\r\n\r\n"), "no complete response: " + r);
              assertTrue(raw.closedWithin(1000), "the downstream connection is closed");
              assertEquals(i + 1, accepted.get(), "each request on a new upstream connection");
              continue;
            }
            assertEquals(502, RawHttp.status(r), "upstream answer " + i + ": " + r);
            assertFalse(r.contains("Transfer-Encoding"), r);
            assertFalse(r.contains("aaaaaaaa"), "nothing of the refused response is forwarded");
          }
          assertEquals(i + 1, accepted.get(), "each request on a new upstream connection");
        }
        assertTrue(p.stat("cluster.backend.upstream_cx_protocol_error") >= responses.length,
            "counted as protocol errors");
      } finally {
        bad.close();
        t.join(2000);
        for (java.net.Socket s : held) {
          s.close();
        }
      }
    }
  }

  /**
   * Bytes an upstream sends that no request waits for — here a body after its response to HEAD — close that upstream
   * connection, as Envoy's codec does: kept, they were read as the next request's response (a 502 for a request the
   * upstream never got wrong). The requests after it, on the same event loop's pool, get fresh connections.
   */
  @Test
  void upstreamBytesNoRequestAwaitsCloseItsConnection() throws Exception {
    java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    java.util.List<java.net.Socket> held = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    try (java.net.ServerSocket sloppy = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try {
          while (true) {
            java.net.Socket s = sloppy.accept();
            held.add(s);
            accepted.incrementAndGet();
            Thread r = new Thread(() -> {
              try {
                byte[] buf = new byte[4096];
                int n;
                while ((n = s.getInputStream().read(buf)) > 0) {
                  boolean head = new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("HEAD");
                  s.getOutputStream().write((head ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                      : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                  s.getOutputStream().flush();
                }
              } catch (java.io.IOException ignored) {
                // closed by the proxy, or at the end of the test
              }
            });
            r.setDaemon(true);
            r.start();
          }
        } catch (Exception ignored) {
          // the server socket closed: the test is over
        }
      });
      t.setDaemon(true);
      t.start();
      try (ProxyHarness p = ProxyHarness.start(ProxyHarness.simpleHttp("", ""),
          Map.of("BACKEND", sloppy.getLocalPort()));
          RawHttp raw = new RawHttp(p.port("http"))) {
        String head = raw.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n").readAll(500);
        assertEquals(200, RawHttp.status(head), head);
        for (int i = 0; i < 3; i++) {
          String r = raw.send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n").readAll(500);
          assertEquals(200, RawHttp.status(r), "request " + i + " after the HEAD: " + r);
          assertTrue(r.endsWith("\r\n\r\nok"), r);
        }
        assertEquals(2, accepted.get(), "the HEAD's connection was closed, the next one kept");
      } finally {
        for (java.net.Socket s : held) {
          s.close();
        }
      }
    }
  }
}
