package io.bowline.core.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Reads on one event loop share its buffer ({@link LoopReadBuffer}): bytes someone still holds — a response waiting
 * for a client that does not read — are never overwritten by the reads of the loop's other connections.
 */
@ExtendWith(LeakGuard.class)
class LoopReadBufferIT {
  static TestBackend backend;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    // one worker: every connection, downstream and upstream, reads on the same loop
    proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", backend.port()), "--concurrency",
        "1");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  /**
   * A client that pipelines requests and reads nothing: their echoes, each one read from the upstream into the loop's
   * buffer, wait in the proxy (the socket's buffers full) holding that buffer while another client's requests and
   * responses are read on the same loop.
   */
  @Test
  void bytesHeldForASlowClientSurviveOtherConnectionsReads() throws Exception {
    int requests = 400;
    int size = 12_000; // a response fits the loop's buffer in one read
    try (Socket slow = new Socket()) {
      slow.setReceiveBufferSize(4096);
      slow.connect(new InetSocketAddress("127.0.0.1", proxy.port("http")));
      slow.setSoTimeout(20_000);
      Thread writer = new Thread(() -> {
        try {
          var out = slow.getOutputStream();
          for (int i = 0; i < requests; i++) {
            out.write(RawHttp.post("/echo/" + i, RawHttp.randomBytes(size, i)));
          }
          out.flush();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      writer.start();
      Thread.sleep(500); // echoes come back and wait in the proxy: this client reads nothing yet

      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      Random sizes = new Random(7);
      for (int i = 0; i < 200; i++) {
        byte[] body = RawHttp.randomBytes(1 + sizes.nextInt(15_000), 1_000 + i);
        HttpResponse<byte[]> r = client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port("http") + "/echo/fast" + i))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertArrayEquals(body, r.body(), "echo " + i);
      }

      InputStream in = slow.getInputStream();
      for (int i = 0; i < requests; i++) {
        String head = RawHttp.readHead(in);
        assertTrue(head.startsWith("HTTP/1.1 200"), "response " + i + ": " + head);
        assertArrayEquals(RawHttp.randomBytes(size, i), in.readNBytes(size), "held response " + i + ", byte for byte");
      }
      writer.join(10_000);
    }
  }
}
