package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.netty.util.internal.PlatformDependent;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Bodies stream: 1 GiB each way passes through with memory bounded by the buffer limits, not the body size. */
@ExtendWith(LeakGuard.class)
class StreamingIT {
  private static final long GIB = 1L << 30;
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

  /** Samples Netty's direct memory while a transfer runs and returns the peak growth over the start. */
  private static long peakDirectGrowthDuring(ThrowingRunnable r) throws Exception {
    long base = PlatformDependent.usedDirectMemory();
    AtomicLong peak = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        peak.accumulateAndGet(PlatformDependent.usedDirectMemory() - base, Math::max);
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.start();
    try {
      r.run();
    } finally {
      sampler.interrupt();
      sampler.join();
    }
    return peak.get();
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  // LIM-06: a client that never reads a large response holds memory to the buffer limits, and the proxy stops
  // reading the upstream instead of buffering the body
  @Test
  void slowHttp1ReaderPausesTheUpstream() throws Exception {
    long before = backend.streamed.get();
    long peak;
    try (java.net.Socket s = new java.net.Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.port("http")));
      long[] stalledAt = new long[1];
      peak = peakDirectGrowthDuring(() -> {
        s.getOutputStream().write(("GET /size/" + GIB + " HTTP/1.1\r\nHost: x\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Thread.sleep(2000);
        stalledAt[0] = backend.streamed.get();
        Thread.sleep(1000);
      });
      long sent = stalledAt[0] - before;
      assertTrue(sent < 64L << 20, "the upstream was paused after " + sent + " bytes (kernel buffers only)");
      assertTrue(backend.streamed.get() - stalledAt[0] < 1 << 20, "and stays paused");
    }
    assertTrue(peak < 16L << 20, "direct memory grew by " + peak);
  }

  @Test
  void http2ReaderWithAClosedWindowPausesTheUpstream() throws Exception {
    long before = backend.streamed.get();
    long peak;
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port("http"))) {
      var out = s.getOutputStream();
      long[] stalledAt = new long[1];
      peak = peakDirectGrowthDuring(() -> {
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        // SETTINGS_INITIAL_WINDOW_SIZE = 0: the proxy may send no DATA at all on our streams
        out.write(new byte[] {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0});
        io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.buffer();
        new io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder().encodeHeaders(1,
            new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET").scheme("http").authority("x")
                .path("/size/" + GIB), block);
        byte[] b = new byte[block.readableBytes()];
        block.readBytes(b).release();
        out.write(new byte[] {0, 0, (byte) b.length, 1, 5, 0, 0, 0, 1});
        out.write(b);
        Thread.sleep(2000);
        stalledAt[0] = backend.streamed.get();
        Thread.sleep(1000);
      });
      long sent = stalledAt[0] - before;
      assertTrue(sent < 64L << 20, "the upstream was paused after " + sent + " bytes");
      assertTrue(backend.streamed.get() - stalledAt[0] < 1 << 20, "and stays paused");
    }
    assertTrue(peak < 16L << 20, "direct memory grew by " + peak);
  }

  @Test
  void oneGibDownload() throws Exception {
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    long[] got = new long[1];
    long peak = peakDirectGrowthDuring(() -> {
      HttpResponse<InputStream> r = c.send(HttpRequest.newBuilder(proxy.uri("http", "/size/" + GIB)).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, r.statusCode());
      try (InputStream in = r.body()) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) >= 0) {
          got[0] += n;
        }
      }
    });
    assertEquals(GIB, got[0]);
    assertTrue(peak < 96L << 20, "direct memory grew by " + (peak >> 20) + " MiB for a 1 GiB body");
  }

  @Test
  void oneGibUpload() throws Exception {
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String[] body = new String[1];
    long peak = peakDirectGrowthDuring(() -> {
      HttpResponse<String> r = c.send(HttpRequest.newBuilder(proxy.uri("http", "/upload"))
          .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
              () -> new InputStream() {
                long left = GIB;

                @Override
                public int read() {
                  return left-- > 0 ? 0 : -1;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                  if (left <= 0) {
                    return -1;
                  }
                  int n = (int) Math.min(len, left);
                  left -= n;
                  return n;
                }
              }), GIB)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      body[0] = r.body();
    });
    assertEquals(Long.toString(GIB), body[0]);
    assertTrue(peak < 96L << 20, "direct memory grew by " + (peak >> 20) + " MiB for a 1 GiB body");
  }
}
