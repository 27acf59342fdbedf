package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The HTTP/2 rows of ../shared/HOSTILE-INPUTS.md (H2-01 to H2-16), with raw frames on a socket (h2c by prior
 * knowledge). Each case checks the answer the table names, that nothing reached the upstream for a rejected
 * request, and (after each test) that a valid request on a new connection is still served.
 */
@ExtendWith(LeakGuard.class)
class Http2HostileIT {
  static final int DATA = 0;
  static final int HEADERS = 1;
  static final int PRIORITY = 2;
  static final int RST_STREAM = 3;
  static final int SETTINGS = 4;
  static final int PUSH_PROMISE = 5;
  static final int PING = 6;
  static final int GOAWAY = 7;
  static final int WINDOW_UPDATE = 8;
  static final int CONTINUATION = 9;
  static final int END_STREAM = 0x1;
  static final int END_HEADERS = 0x4;
  static final long PROTOCOL_ERROR = 1;
  static final long FLOW_CONTROL_ERROR = 3;
  static final long STREAM_CLOSED = 5;
  static final long FRAME_SIZE_ERROR = 6;
  static final long REFUSED_STREAM = 7;
  static final long COMPRESSION_ERROR = 9;
  static final long ENHANCE_YOUR_CALM = 11;

  static TestBackend backend;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    proxy = ProxyHarness.start(ProxyHarness.simpleHttp("""
        http2_protocol_options: {max_concurrent_streams: 100}
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
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1, f.headerBlock(Frames.get("/echo/after")));
      Frame r = f.await(fr -> fr.type == HEADERS && fr.stream == 1, 3000);
      assertNotNull(r, "a valid h2 stream on a new connection got no response");
    }
  }

  /** One frame read from the proxy. */
  record Frame(int type, int flags, int stream, byte[] payload) {
    /** RST_STREAM's or GOAWAY's error code. */
    long errorCode() {
      int off = type == GOAWAY ? 4 : 0;
      return ((payload[off] & 0xffL) << 24) | ((payload[off + 1] & 0xff) << 16)
          | ((payload[off + 2] & 0xff) << 8) | (payload[off + 3] & 0xff);
    }
  }

  /** A raw HTTP/2 client connection. */
  static final class Frames implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final DataInputStream in;
    final DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
    boolean closed;

    Frames(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(3000);
      out = socket.getOutputStream();
      in = new DataInputStream(socket.getInputStream());
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      frame(SETTINGS, 0, 0, new byte[0]);
    }

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
      out.write(header(payload.length, type, flags, stream));
      out.write(payload);
    }

    static byte[] header(int length, int type, int flags, int stream) {
      return new byte[] {(byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
          (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
    }

    /** Writes frames until the proxy stops taking them; false when it closed the connection under us. */
    boolean tryFrame(int type, int flags, int stream, byte[] payload) {
      try {
        frame(type, flags, stream, payload);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    byte[] headerBlock(Http2Headers headers) throws Exception {
      ByteBuf buf = Unpooled.buffer();
      try {
        hpack.encodeHeaders(1, headers, buf);
        byte[] b = new byte[buf.readableBytes()];
        buf.readBytes(b);
        return b;
      } finally {
        buf.release();
      }
    }

    static Http2Headers get(String path) {
      return new DefaultHttp2Headers().method("GET").scheme("http").authority("x").path(path);
    }

    static Http2Headers post(String path) {
      return new DefaultHttp2Headers().method("POST").scheme("http").authority("x").path(path);
    }

    /** The next frame, or null on timeout or when the proxy closed the connection (then {@link #closed}). */
    @Nullable Frame next(int timeoutMs) throws IOException {
      socket.setSoTimeout(timeoutMs);
      try {
        int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[len];
        in.readFully(payload);
        return new Frame(type, flags, stream, payload);
      } catch (SocketTimeoutException e) {
        return null;
      } catch (IOException e) {
        closed = true;
        return null;
      }
    }

    /** Reads until a frame matches, skipping the others; null on timeout or close. */
    @Nullable Frame await(Predicate<Frame> wanted, int timeoutMs) throws IOException {
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (!closed) {
        int left = (int) (deadline - System.currentTimeMillis());
        if (left <= 0) {
          return null;
        }
        Frame f = next(left);
        if (f != null && wanted.test(f)) {
          return f;
        }
      }
      return null;
    }

    /** The error code of the GOAWAY the proxy sends (reading past other frames), or -1 when none came. */
    long goaway(int timeoutMs) throws IOException {
      Frame g = await(f -> f.type == GOAWAY, timeoutMs);
      return g == null ? -1 : g.errorCode();
    }

    /** The error code of the RST_STREAM on {@code stream}, or -1 when none came. */
    long reset(int stream, int timeoutMs) throws IOException {
      Frame r = await(f -> f.type == RST_STREAM && f.stream == stream, timeoutMs);
      return r == null ? -1 : r.errorCode();
    }

    /** True once the proxy has closed the connection (read to EOF within the time). */
    boolean closesWithin(int timeoutMs) throws IOException {
      await(f -> false, timeoutMs);
      return closed;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static byte[] int32(long v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  // H2-01 rapid reset (CVE-2023-44487)
  @Test
  void rapidResetGetsGoaway() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      byte[] block = f.headerBlock(Frames.post("/delay/2000"));
      for (int i = 0; i < 2000; i++) {
        int stream = 1 + 2 * i;
        if (!f.tryFrame(HEADERS, END_HEADERS, stream, block) || !f.tryFrame(RST_STREAM, 0, stream, int32(8))) {
          break; // the proxy closed under us
        }
      }
      assertEquals(ENHANCE_YOUR_CALM, f.goaway(3000), "GOAWAY(ENHANCE_YOUR_CALM)");
      assertTrue(f.closesWithin(2000), "closed after the GOAWAY");
    }
    Thread.sleep(300);
    assertTrue(backend.received.size() - before <= 600, "upstream work stays bounded");
  }

  // H2-02 MadeYouReset: each stream provokes a reset from the server (WINDOW_UPDATE 0 on an open stream)
  @Test
  void serverSentResetsCountAgainstTheBudget() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      byte[] block = f.headerBlock(Frames.post("/delay/2000"));
      for (int i = 0; i < 2000; i++) {
        int stream = 1 + 2 * i;
        if (!f.tryFrame(HEADERS, END_HEADERS, stream, block) || !f.tryFrame(WINDOW_UPDATE, 0, stream, int32(0))) {
          break;
        }
      }
      assertEquals(ENHANCE_YOUR_CALM, f.goaway(3000), "GOAWAY(ENHANCE_YOUR_CALM)");
      assertTrue(f.closesWithin(2000));
    }
  }

  // H2-03 CONTINUATION flood
  @Test
  void continuationFloodIsCut() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, 0, 1, f.headerBlock(Frames.get("/echo/cont"))); // no END_HEADERS
      byte[] junk = f.headerBlock(new DefaultHttp2Headers().add("x-pad", "a".repeat(4000)));
      for (int i = 0; i < 200 && f.tryFrame(CONTINUATION, 0, 1, junk); i++) {
        // until the proxy gives up on us
      }
      assertTrue(f.closesWithin(3000), "the connection is closed");
    }
  }

  // H2-04 HPACK bomb: one 4 KiB entry in the dynamic table, referenced 10 000 times
  @Test
  void hpackBombIsBoundedByTheHeaderListLimit() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      byte[] first = f.headerBlock(Frames.get("/echo/bomb"));
      // literal with incremental indexing, new name "x-bomb", 4000-byte value (7-bit prefix integer for the length)
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.writeBytes(first);
      b.write(0x40);
      b.write(6);
      b.writeBytes("x-bomb".getBytes(StandardCharsets.US_ASCII));
      b.write(0x7f);
      writeHpackInt(b, 4000 - 127);
      b.writeBytes("v".repeat(4000).getBytes(StandardCharsets.US_ASCII));
      byte[] seed = b.toByteArray();
      // the newest dynamic entry is always index 62, whatever the encoder indexed before it
      byte[] refs = new byte[10_000];
      java.util.Arrays.fill(refs, (byte) (0x80 | 62));
      byte[] block = concat(seed, refs);
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1, java.util.Arrays.copyOf(block, Math.min(block.length, 16384)));
      Frame answer = f.await(fr -> fr.stream <= 1 && (fr.type == HEADERS || fr.type == RST_STREAM
          || fr.type == GOAWAY), 3000);
      assertNotNull(answer, "431, RST or GOAWAY");
      if (answer.type == HEADERS) { // Netty answers a header list over the limit with a literal :status 431
        assertTrue(new String(answer.payload, StandardCharsets.ISO_8859_1).contains("431"), "431");
      }
    }
    assertEquals(before, backend.received.size(), "U0");
  }

  static void writeHpackInt(ByteArrayOutputStream b, int rest) {
    while (rest >= 128) {
      b.write((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    b.write(rest);
  }

  // H2-05 HPACK index 0, index past the table, size update above SETTINGS
  @Test
  void badHpackIsACompressionError() throws Exception {
    byte[][] blocks = {
        {(byte) 0x80}, // indexed field, index 0
        {(byte) 0xff, (byte) 0x80, 0x01}, // indexed field, index 127 + 128: past the static and empty dynamic table
        {0x3f, (byte) 0xe1, (byte) 0xff, 0x03}, // dynamic table size update to 65 536 (> SETTINGS 4096)
    };
    for (byte[] block : blocks) {
      try (Frames f = new Frames(proxy.port("http"))) {
        f.frame(HEADERS, END_HEADERS | END_STREAM, 1, block);
        assertEquals(COMPRESSION_ERROR, f.goaway(3000), "GOAWAY(COMPRESSION_ERROR) for " + hex(block));
        assertTrue(f.closesWithin(2000));
      }
    }
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  // H2-06 PING flood while the client never reads
  @Test
  void pingFloodWithoutReadingIsClosed() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.socket.setReceiveBufferSize(4096);
      byte[] ping = new byte[8];
      boolean cut = false;
      for (int i = 0; i < 500_000; i++) {
        if (!f.tryFrame(PING, 0, 0, ping)) {
          cut = true;
          break;
        }
      }
      assertTrue(cut || f.closesWithin(3000), "the proxy closed the flooding connection");
    }
  }

  // H2-07 floods of empty DATA, PRIORITY, WINDOW_UPDATE
  @Test
  void emptyDataFloodIsClosed() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/empty")));
      for (int i = 0; i < 100 && f.tryFrame(DATA, 0, 1, new byte[0]); i++) {
        // empty DATA without END_STREAM
      }
      assertTrue(f.closesWithin(3000), "closed");
    }
  }

  @Test
  void priorityFloodIsClosed() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/prio")));
      byte[] prio = concat(int32(0), new byte[] {16});
      for (int i = 0; i < 5000 && f.tryFrame(PRIORITY, 0, 1, prio); i++) {
        // Envoy's cap: 100 PRIORITY frames per opened stream
      }
      assertEquals(ENHANCE_YOUR_CALM, f.goaway(3000));
      assertTrue(f.closesWithin(2000));
    }
  }

  @Test
  void windowUpdateFloodIsClosed() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/wu")));
      for (int i = 0; i < 5000 && f.tryFrame(WINDOW_UPDATE, 0, 0, int32(1)); i++) {
        // Envoy's cap: 10 WINDOW_UPDATEs per DATA frame sent, plus 2 per stream
      }
      assertEquals(ENHANCE_YOUR_CALM, f.goaway(3000));
      assertTrue(f.closesWithin(2000));
    }
  }

  // H2-08 flow-control errors
  @Test
  void windowUpdateZeroOnAStreamResetsIt() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/wu0")));
      f.frame(WINDOW_UPDATE, 0, 1, int32(0));
      assertEquals(PROTOCOL_ERROR, f.reset(1, 3000), "RST_STREAM(PROTOCOL_ERROR)");
    }
  }

  @Test
  void windowUpdateZeroOnTheConnectionIsAGoaway() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(WINDOW_UPDATE, 0, 0, int32(0));
      assertEquals(PROTOCOL_ERROR, f.goaway(3000));
    }
  }

  @Test
  void windowOverflowIsAFlowControlError() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(WINDOW_UPDATE, 0, 0, int32(0x7fffffff));
      assertEquals(FLOW_CONTROL_ERROR, f.goaway(3000));
    }
  }

  @Test
  void initialWindowAboveTheMaximumIsAFlowControlError() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(SETTINGS, 0, 0, concat(new byte[] {0, 4}, int32(0x80000000L)));
      assertEquals(FLOW_CONTROL_ERROR, f.goaway(3000));
    }
  }

  @Test
  void dataBeyondOurWindowIsAFlowControlError() throws Exception {
    // an upstream that accepts and never reads: the proxy stops reading the stream, so its window stays shut
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        ProxyHarness stuck = ProxyHarness.start(ProxyHarness.simpleHttp("", ""), Map.of("BACKEND", silent.getLocalPort()))) {
      List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            Socket s = silent.accept();
            s.setReceiveBufferSize(4096);
            accepted.add(s);
          }
        } catch (IOException e) {
          // closed at the end of the test
        }
      });
      acceptor.start();
      try (Frames f = new Frames(stuck.port("http"))) {
        f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/big")));
        byte[] chunk = new byte[16384];
        for (int i = 0; i < 2000 && f.tryFrame(DATA, 0, 1, chunk); i++) {
          // 32 MiB, far past the 64 KiB stream window, never waiting for WINDOW_UPDATE
        }
        Frame err = f.await(fr -> fr.type == RST_STREAM && fr.stream == 1 || fr.type == GOAWAY, 5000);
        assertNotNull(err, "RST_STREAM or GOAWAY");
        assertEquals(FLOW_CONTROL_ERROR, err.errorCode());
      } finally {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  // H2-10 (kept from the first version of this suite)
  @Test
  void uppercaseHeaderNameIsAProtocolError() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      byte[] block = f.headerBlock(Frames.get("/echo/upper"));
      // literal without indexing, new name: written by hand because Netty's encoder refuses an uppercase name
      byte[] literal = {0x00, 7, 'X', '-', 'U', 'p', 'p', 'e', 'r', 1, '1'};
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1, concat(block, literal));
      long code = f.reset(1, 2000);
      assertTrue(code == PROTOCOL_ERROR || f.closed, "RST_STREAM(PROTOCOL_ERROR) or close, got " + code);
    }
    assertEquals(before, backend.received.size(), "U0");
  }

  @Test
  void missingPathAndConnectionHeaderAreProtocolErrors() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1,
          f.headerBlock(new DefaultHttp2Headers().method("GET").scheme("http").authority("x")));
      long code = f.reset(1, 2000);
      assertTrue(code == PROTOCOL_ERROR || f.closed, "missing :path, got " + code);
    }
    try (Frames f = new Frames(proxy.port("http"))) {
      Http2Headers h = Frames.get("/echo/conn");
      h.add("connection", "keep-alive");
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1, f.headerBlock(h));
      long code = f.reset(1, 2000);
      assertTrue(code == PROTOCOL_ERROR || f.closed, "connection header, got " + code);
    }
    assertEquals(before, backend.received.size(), "U0");
  }

  // H2-12 content-length does not match the DATA
  @Test
  void contentLengthMismatchResetsTheStream() throws Exception {
    int before = backend.requestsTo("/echo/cl");
    try (Frames f = new Frames(proxy.port("http"))) {
      Http2Headers h = Frames.post("/echo/cl");
      h.add("content-length", "10");
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(h));
      f.frame(DATA, END_STREAM, 1, new byte[20]);
      assertEquals(PROTOCOL_ERROR, f.reset(1, 3000), "RST_STREAM(PROTOCOL_ERROR)");
    }
    Thread.sleep(200);
    assertEquals(before, backend.requestsTo("/echo/cl"), "the upstream never saw a complete request");
  }

  // H2-14 stream-id and frame rules
  @Test
  void evenStreamIdIsAProtocolError() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS | END_STREAM, 2, f.headerBlock(Frames.get("/echo/even")));
      assertEquals(PROTOCOL_ERROR, f.goaway(3000));
    }
  }

  @Test
  void decreasingStreamIdIsAProtocolError() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS | END_STREAM, 5, f.headerBlock(Frames.get("/echo/five")));
      f.frame(HEADERS, END_HEADERS | END_STREAM, 3, f.headerBlock(Frames.get("/echo/three")));
      // RFC 9113 makes this a connection PROTOCOL_ERROR; Netty cannot tell it from a late frame on a stream it
      // reset, so it answers RST_STREAM(STREAM_CLOSED), which the table allows
      Frame answer = f.await(fr -> fr.type == GOAWAY || fr.type == RST_STREAM && fr.stream == 3, 3000);
      assertNotNull(answer);
      assertEquals(answer.type == GOAWAY ? PROTOCOL_ERROR : STREAM_CLOSED, answer.errorCode());
    }
  }

  @Test
  void clientPushPromiseIsAProtocolError() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/push")));
      f.frame(PUSH_PROMISE, END_HEADERS, 1, concat(int32(2), f.headerBlock(Frames.get("/pushed"))));
      assertEquals(PROTOCOL_ERROR, f.goaway(3000));
    }
  }

  @Test
  void frameAboveMaxFrameSizeIsAFrameSizeError() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/upload/huge")));
      f.tryFrame(DATA, 0, 1, new byte[16385]); // SETTINGS_MAX_FRAME_SIZE is 16 384
      assertEquals(FRAME_SIZE_ERROR, f.goaway(3000));
    }
  }

  @Test
  void dataOnAClosedStreamIsStreamClosed() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1, f.headerBlock(Frames.get("/echo/closed")));
      assertNotNull(f.await(fr -> fr.type == DATA && fr.stream == 1 && (fr.flags & END_STREAM) != 0
          || fr.type == HEADERS && fr.stream == 1 && (fr.flags & END_STREAM) != 0, 3000), "the stream completed");
      f.frame(DATA, 0, 1, new byte[10]);
      Frame answer = f.await(fr -> fr.type == RST_STREAM || fr.type == GOAWAY, 3000);
      assertNotNull(answer, "RST_STREAM or GOAWAY");
      assertEquals(STREAM_CLOSED, answer.errorCode());
    }
  }

  // H2-15 trailers without END_STREAM; HEADERS after trailers
  @Test
  void trailersWithoutEndStreamAreAProtocolError() throws Exception {
    int before = backend.requestsTo("/echo/trailers");
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(Frames.post("/echo/trailers")));
      f.frame(DATA, 0, 1, new byte[5]);
      f.frame(HEADERS, END_HEADERS, 1, f.headerBlock(new DefaultHttp2Headers().add("x-trailer", "1")));
      long code = f.reset(1, 3000);
      assertTrue(code == PROTOCOL_ERROR || f.closed, "RST_STREAM(PROTOCOL_ERROR), got " + code);
    }
    Thread.sleep(200);
    assertEquals(before, backend.requestsTo("/echo/trailers"), "U0");
  }

  // H2-16 200 streams against a limit of 100
  @Test
  void streamsAboveTheLimitAreRefused() throws Exception {
    int before = backend.requestsTo("/delay/300/limit");
    try (Frames f = new Frames(proxy.port("http"))) {
      // let the proxy's SETTINGS (max_concurrent_streams 100) arrive before opening streams
      assertNotNull(f.await(fr -> fr.type == SETTINGS && (fr.flags & 1) == 0, 3000));
      f.frame(SETTINGS, 1, 0, new byte[0]);
      byte[] block = f.headerBlock(Frames.get("/delay/300/limit"));
      for (int i = 0; i < 200; i++) {
        f.frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, block);
      }
      Set<Integer> answered = new HashSet<>();
      List<Integer> refused = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 5000;
      while (answered.size() + refused.size() < 200 && System.currentTimeMillis() < deadline) {
        Frame fr = f.next(1000);
        if (fr == null) {
          if (f.closed) {
            break;
          }
          continue;
        }
        if (fr.type == HEADERS && fr.stream > 0) {
          answered.add(fr.stream);
        } else if (fr.type == RST_STREAM) {
          assertEquals(REFUSED_STREAM, fr.errorCode(), "the extras are refused");
          refused.add(fr.stream);
        }
      }
      assertEquals(100, answered.size(), "the first 100 are served");
      assertEquals(100, refused.size(), "the other 100 are refused");
    }
    assertEquals(100, backend.requestsTo("/delay/300/limit") - before);
  }

  @Test
  void aClientThatVanishesMidResponseIsLetGoQuietly() throws Exception {
    // writes to a connection the client reset fail (broken pipe, then a closed channel): the connection is closed,
    // and no failure is left to reach the end of the pipeline as a warning with a stack trace
    java.util.logging.Logger pipeline = java.util.logging.Logger.getLogger("io.netty.channel.DefaultChannelPipeline");
    List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler capture = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        if (Thread.currentThread().getName().startsWith("bowline-")) { // the proxy's loops, not the test backend's
          warnings.add(r.getMessage() + " " + r.getThrown());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    pipeline.addHandler(capture);
    long protocolErrors = proxy.stat("http.ingress.downstream_cx_protocol_error");
    try {
      for (int i = 0; i < 10; i++) {
        Frames f = new Frames(proxy.port("http"));
        for (int stream = 1; stream <= 19; stream += 2) {
          f.frame(HEADERS, END_HEADERS | END_STREAM, stream, f.headerBlock(Frames.get("/size/300000")));
        }
        assertNotNull(f.await(fr -> fr.type == DATA, 3000), "the responses have started");
        f.socket.setSoLinger(true, 0); // a reset, not a FIN: the proxy's next writes fail
        f.close();
      }
      Thread.sleep(500);
      assertEquals(List.of(), warnings);
      assertEquals(protocolErrors, proxy.stat("http.ingress.downstream_cx_protocol_error"),
          "a client that went away made no protocol error");
    } finally {
      pipeline.removeHandler(capture);
    }
  }

  @Test
  void validStreamWorksOnRawFrames() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(HEADERS, END_HEADERS | END_STREAM, 1, f.headerBlock(Frames.get("/echo/raw")));
      Frame h = f.await(fr -> fr.type == HEADERS && fr.stream == 1, 3000);
      assertNotNull(h);
      assertTrue(new String(h.payload, StandardCharsets.ISO_8859_1).length() > 0);
    }
  }
}
