package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** HTTP/1.1 pipelining: requests sent back to back are served one after another, and wait without piling up. */
@ExtendWith(LeakGuard.class)
class Http1PipeliningIT {
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

  /**
   * Requests with bodies, written in one go: each one's body waits behind the response before it and is then sent on
   * whole (a body handed to its stream after the head, with the next request waiting, once sat unflushed until the
   * route timeout answered 504).
   */
  @Test
  void pipelinedRequestsWithBodiesAreEachAnsweredInOrder() throws Exception {
    int n = 40;
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < n; i++) {
      all.writeBytes(RawHttp.post("/echo/" + i, RawHttp.randomBytes(1_000 + 500 * i, i)));
    }
    try (Socket s = new Socket("127.0.0.1", proxy.port("http"))) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(all.toByteArray());
      InputStream in = s.getInputStream();
      for (int i = 0; i < n; i++) {
        String head = RawHttp.readHead(in);
        assertTrue(head.startsWith("HTTP/1.1 200") && head.contains("x-echo-uri: /echo/" + i + "\r\n"),
            "response " + i + ": " + head);
        assertArrayEquals(RawHttp.randomBytes(1_000 + 500 * i, i), in.readNBytes(1_000 + 500 * i), "body " + i);
      }
    }
  }

  /**
   * LIM-06 for pipelining: a client that writes requests and never reads the responses is not read any further than
   * the request after the one being answered (as Envoy), so what it sends waits in its own socket, not in the
   * proxy; everyone else is still served.
   */
  @Test
  void aClientThatPipelinesWithoutReadingIsNotReadAhead() throws Exception {
    int n = 1_000;
    byte[] one = RawHttp.post("/echo", RawHttp.randomBytes(64 * 1024, 1));
    long total = (long) n * one.length; // 64 MiB of requests
    AtomicLong written = new AtomicLong();
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.port("http")));
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = s.getOutputStream();
          for (int i = 0; i < n; i++) {
            out.write(one);
            written.addAndGet(one.length);
          }
        } catch (java.io.IOException e) {
          // the socket closed under a blocked write: expected at the end
        }
      });
      writer.setDaemon(true);
      writer.start();
      Thread.sleep(3_000);
      long seen = written.get();
      assertTrue(seen < 24L << 20, "the proxy took " + (seen >> 20) + " MiB of " + (total >> 20)
          + " MiB of requests from a client that reads nothing");
      RawHttp.assertStillServed(proxy.port("http"));
    }
  }
}
