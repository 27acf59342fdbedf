package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code delayed_close_timeout}: a connection the proxy closes gets its last bytes and a FIN, and stays open for
 * reading until the peer closes or the timeout passes, so the peer reads the answer instead of a reset.
 */
@ExtendWith(LeakGuard.class)
class LingeringCloseIT {
  private static final String ACTIVE = "http.ingress.downstream_cx_active";
  private static final String CLOSING_GET = "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

  @Test
  void aClosedConnectionWaitsForThePeerToCloseToo() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()));
        RawHttp raw = new RawHttp(proxy.port("http"))) {
      String answer = raw.send(CLOSING_GET).readAll(3000);
      assertEquals(200, RawHttp.status(answer), answer);
      // the proxy has said all it will (EOF) but lingers: the connection is still open on its side
      Thread.sleep(200);
      assertEquals(1, proxy.stat(ACTIVE), "lingering until the client closes");
      raw.send("late bytes, dropped");
      raw.close();
      proxy.awaitStat(ACTIVE, 0);
    }
  }

  @Test
  void aPeerThatNeverClosesIsClosedAfterTheTimeout() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("delayed_close_timeout: 0.3s", ""),
            Map.of("BACKEND", backend.port()));
        RawHttp raw = new RawHttp(proxy.port("http"))) {
      assertEquals(200, RawHttp.status(raw.send(CLOSING_GET).readAll(3000)));
      long start = System.nanoTime();
      proxy.awaitStat(ACTIVE, 0);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 2000, "closed after the 0.3 s timeout, took " + ms + " ms");
    }
  }

  @Test
  void zeroClosesAtOnce() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("delayed_close_timeout: 0s", ""),
            Map.of("BACKEND", backend.port()));
        RawHttp raw = new RawHttp(proxy.port("http"))) {
      assertEquals(200, RawHttp.status(raw.send(CLOSING_GET).readAll(3000)));
      proxy.awaitStat(ACTIVE, 0);
    }
  }

  /**
   * A request refused with much more behind it: the 400 arrives whole, then EOF. (On loopback the kernel hands over
   * what arrived before a reset too, so this holds with lingering off as well; across a network the reset that
   * closing over unread bytes sends can discard the answer, which lingering prevents.)
   */
  @Test
  void anErrorAnswerArrivesWholeDespiteUnreadInput() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()))) {
      String junk = "x".repeat(64 * 1024);
      for (int i = 0; i < 5; i++) {
        try (RawHttp raw = new RawHttp(proxy.port("http"))) {
          raw.send("GET /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
          try {
            for (int k = 0; k < 4; k++) {
              raw.send(junk);
            }
          } catch (IOException e) {
            // the proxy may stop reading before all of it is sent: what matters is what the client reads
          }
          String answer = raw.readAll(3000);
          assertEquals(400, RawHttp.status(answer), "round " + i + ": " + answer);
          assertTrue(answer.contains("\r\n\r\n"), "the whole answer: " + answer);
        }
      }
    }
  }
}
