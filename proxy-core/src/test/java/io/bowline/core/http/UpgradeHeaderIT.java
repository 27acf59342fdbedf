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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A request that carries an {@code Upgrade} header but is not an upgrade bowline takes keeps its body and its
 * framing: the header is dropped (hop-by-hop, as Envoy drops it) and the request is proxied as HTTP/1.1, its body
 * streamed, whatever its size. Only an h2c upgrade small enough to be held while the connection switches is held.
 */
@ExtendWith(LeakGuard.class)
class UpgradeHeaderIT {
  static TestBackend backend;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  @Test
  void anUpgradeHeaderWithoutConnectionUpgradeIsProxiedWithItsBody() throws Exception {
    for (int size : new int[] {1000, 100_000}) {
      assertEchoed("Upgrade: foo\r\n", size);
      assertEchoed("Upgrade: websocket\r\n", size);
    }
  }

  /** An h2c upgrade whose body is too large to hold while switching is served as HTTP/1.1 (RFC 9113 lets it). */
  @Test
  void anH2cUpgradeWithALargeBodyIsServedAsHttp1() throws Exception {
    assertEchoed("Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
        100_000);
  }

  /** One small enough to hold is still taken: the connection switches, its first stream the request. */
  @Test
  void anH2cUpgradeWithASmallBodyIsTaken() throws Exception {
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
          + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 1000\r\n\r\n" + "b".repeat(1000)).readAll(700);
      assertTrue(r.startsWith("HTTP/1.1 101 Switching Protocols"), r.substring(0, Math.min(200, r.length())));
    }
  }

  /** An h2c upgrade that is not one (no HTTP2-Settings) keeps its body too. */
  @Test
  void aMalformedH2cUpgradeIsServedAsHttp1WithItsBody() throws Exception {
    assertEchoed("Upgrade: h2c\r\nConnection: Upgrade\r\n", 1000);
  }

  /** Then the connection still frames the next request where the client put it: the body was not taken for one. */
  private static void assertEchoed(String headers, int size) throws Exception {
    String body = "b".repeat(size);
    try (RawHttp raw = new RawHttp(proxy.port("http"))) {
      String r = raw.send("POST /echo HTTP/1.1\r\nHost: x\r\n" + headers + "Content-Length: " + size + "\r\n\r\n"
          + body + "GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n").readAll(700);
      String what = headers.replace("\r\n", " | ") + size + " bytes";
      assertEquals(200, RawHttp.status(r), what + ": " + r.substring(0, Math.min(300, r.length())));
      assertTrue(r.contains("\r\n\r\n" + body + "HTTP/1.1 200"), what + ": the body came back, then the next response");
      assertTrue(r.contains("x-echo-uri: /echo/next"), what);
      assertFalse(r.contains("x-echo-h-upgrade"), what + ": Upgrade is hop-by-hop");
    }
  }
}
