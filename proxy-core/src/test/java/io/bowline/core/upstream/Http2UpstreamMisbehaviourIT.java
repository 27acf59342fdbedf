package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HOSTILE-INPUTS H2-18: an HTTP/2 upstream that refuses streams (SETTINGS max_concurrent_streams 0 with GOAWAY,
 * RST_STREAM(REFUSED_STREAM) then GOAWAY, GOAWAY whose last stream id is below streams in flight). The streams it
 * never processed go again on a new connection: the clients see no error, and nothing leaks.
 */
@ExtendWith(LeakGuard.class)
class Http2UpstreamMisbehaviourIT {

  /** What the first connection does with the request streams it reads; later connections serve normally. */
  enum Misbehaviour { NONE, NO_STREAMS_THEN_GOAWAY, REFUSE_THEN_GOAWAY, GOAWAY_BELOW_IN_FLIGHT, TOO_MANY_FIELDS }

  /** A raw-frame HTTP/2 server: connection 1 misbehaves as told, every later connection answers 200. */
  static final class FakeH2Upstream implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger served = new AtomicInteger();
    final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
    final Misbehaviour misbehaviour;

    FakeH2Upstream(Misbehaviour misbehaviour) throws IOException {
      this.misbehaviour = misbehaviour;
      Thread t = new Thread(() -> {
        try {
          while (true) {
            Socket s = server.accept();
            sockets.add(s);
            int n = connections.incrementAndGet();
            new Thread(() -> serve(s, n == 1 && misbehaviour != Misbehaviour.NONE)).start();
          }
        } catch (IOException e) {
          // closed
        }
      });
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(Socket s, boolean misbehave) {
      try (s) {
        DataInputStream in = new DataInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        in.readFully(new byte[24]); // the client preface
        DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
        synchronized (out) {
          if (misbehave && misbehaviour == Misbehaviour.NO_STREAMS_THEN_GOAWAY) {
            frame(out, 4, 0, 0, new byte[] {0, 3, 0, 0, 0, 0}); // SETTINGS max_concurrent_streams 0
          } else {
            frame(out, 4, 0, 0, new byte[0]);
          }
        }
        List<Integer> streams = new ArrayList<>();
        while (true) {
          int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
          int type = in.readUnsignedByte();
          int flags = in.readUnsignedByte();
          int stream = in.readInt() & 0x7fffffff;
          in.readFully(new byte[len]);
          if (type == 4 && (flags & 1) == 0) {
            frame(out, 4, 1, 0, new byte[0]); // SETTINGS ACK
            continue;
          }
          if (type != 1) {
            continue;
          }
          if (!misbehave) {
            respond(out, hpack, stream);
            continue;
          }
          switch (misbehaviour) {
            case TOO_MANY_FIELDS -> respond(out, hpack, stream, 101);
            case NO_STREAMS_THEN_GOAWAY -> {
              frame(out, 7, 0, 0, goaway(0, 0));
              Thread.sleep(200);
              return;
            }
            case REFUSE_THEN_GOAWAY -> {
              frame(out, 3, 0, stream, int32(7)); // RST_STREAM(REFUSED_STREAM)
              frame(out, 7, 0, 0, goaway(0, 0));
              Thread.sleep(200);
              return;
            }
            case GOAWAY_BELOW_IN_FLIGHT -> {
              streams.add(stream);
              if (streams.size() == 4) {
                // answer the first two, tell the client the others were never seen
                respond(out, hpack, streams.get(0));
                respond(out, hpack, streams.get(1));
                frame(out, 7, 0, 0, goaway(streams.get(1), 0));
                Thread.sleep(300);
                return;
              }
            }
          }
        }
      } catch (Exception e) {
        // the proxy closed the connection
      }
    }

    private void respond(OutputStream out, DefaultHttp2HeadersEncoder hpack, int stream) throws Exception {
      respond(out, hpack, stream, 0);
    }

    /** A 200 with {@code fields} header fields besides :status, and "ok". */
    private void respond(OutputStream out, DefaultHttp2HeadersEncoder hpack, int stream, int fields)
        throws Exception {
      ByteBuf b = Unpooled.buffer();
      DefaultHttp2Headers headers = new DefaultHttp2Headers();
      headers.status("200");
      for (int i = 0; i < fields; i++) {
        headers.add("x-n" + i, "1");
      }
      hpack.encodeHeaders(stream, headers, b);
      byte[] block = new byte[b.readableBytes()];
      b.readBytes(block).release();
      synchronized (out) {
        frame(out, 1, 0x4, stream, block);
        frame(out, 0, 0x1, stream, "ok".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
      served.incrementAndGet();
    }

    static byte[] goaway(int lastStream, int code) {
      byte[] a = int32(lastStream);
      byte[] b = int32(code);
      return new byte[] {a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]};
    }

    static byte[] int32(int v) {
      return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
      byte[] h = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
          (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8),
          (byte) stream};
      synchronized (out) {
        out.write(h);
        out.write(payload);
        out.flush();
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  static final String H2_CLUSTER = """
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: {http2_protocol_options: {}}
      """;

  private static void assertAllServed(Misbehaviour m, int requests) throws Exception {
    try (FakeH2Upstream upstream = new FakeH2Upstream(m);
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", H2_CLUSTER),
            Map.of("BACKEND", upstream.port()), "--concurrency", "1")) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      URI uri = proxy.uri("http", "/refused");
      for (int i = 0; i < requests; i++) {
        calls.add(client.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()));
      }
      for (var c : calls) {
        HttpResponse<String> r = c.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), m + ": " + r.body());
        assertEquals("ok", r.body());
      }
      assertEquals(m == Misbehaviour.NONE ? 1 : 2, upstream.connections.get(),
          m + ": the refused streams went on one new connection");
    }
  }

  @Test
  void wellBehavedUpstreamServes() throws Exception {
    assertAllServed(Misbehaviour.NONE, 4);
  }

  @Test
  void maxStreamsZeroThenGoaway() throws Exception {
    assertAllServed(Misbehaviour.NO_STREAMS_THEN_GOAWAY, 1);
  }

  @Test
  void refusedStreamThenGoaway() throws Exception {
    assertAllServed(Misbehaviour.REFUSE_THEN_GOAWAY, 1);
  }

  @Test
  void goawayBelowStreamsInFlight() throws Exception {
    assertAllServed(Misbehaviour.GOAWAY_BELOW_IN_FLIGHT, 4);
  }

  /** max_headers_count (100 by default) holds for an HTTP/2 upstream too: 101 fields are a 502, the stream reset. */
  @Test
  void moreFieldsThanMaxHeadersCountIs502() throws Exception {
    try (FakeH2Upstream upstream = new FakeH2Upstream(Misbehaviour.TOO_MANY_FIELDS);
        ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", H2_CLUSTER),
            Map.of("BACKEND", upstream.port()), "--concurrency", "1")) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/many")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(502, r.statusCode(), r.body());
      assertEquals(true, r.body().contains("protocol error"), r.body());
    }
  }
}
