package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Drain: stop accepting, finish what is in flight, close keep-alive connections, then stop. */
@ExtendWith(LeakGuard.class)
class DrainIT {
  @Test
  void inFlightRequestsFinishAndNewConnectionsAreRefused() throws Exception {
    try (TestBackend backend = TestBackend.start()) {
      ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()),
          "--drain-time-s", "10");
      int port = proxy.port("http");
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
          HttpRequest.newBuilder(proxy.uri("http", "/delay/1500")).build(), HttpResponse.BodyHandlers.ofString());
      RawHttp idle = new RawHttp(port);
      assertEquals(200, RawHttp.status(idle.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").readAll(1000)));
      Thread.sleep(100); // the slow request is on its way upstream
      long start = System.nanoTime();
      Thread stopper = new Thread(proxy::close);
      stopper.start();
      assertTrue(idle.closedWithin(2000), "an idle keep-alive connection is closed at once");
      HttpResponse<String> r = slow.get(5, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), "a request that started before the drain completes");
      assertEquals("close", r.headers().firstValue("connection").orElse(""));
      stopper.join(10_000);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 6000, "drain ended once the last request finished, took " + ms + " ms");
      assertThrows(java.io.IOException.class, () -> new Socket("127.0.0.1", port).close());
      idle.close();
    }
  }

  @Test
  void quitquitquitDrainsAndStops() throws Exception {
    try (TestBackend backend = TestBackend.start()) {
      ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()));
      assertEquals(200, proxy.adminResponse("POST", "/quitquitquit").statusCode());
      CompletableFuture<Void> stopped = CompletableFuture.runAsync(proxy.server::awaitStopped);
      stopped.get(10, TimeUnit.SECONDS);
    }
  }
}
