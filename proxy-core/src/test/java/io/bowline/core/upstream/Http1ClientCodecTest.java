package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The upstream HTTP/1.1 codec against Netty's HttpClientCodec, which it replaced: the same responses decode to the
 * same status, headers, body and trailers however the bytes are split into reads, the same requests encode to the
 * same bytes, and the responses HOSTILE-INPUTS H1-17 lists fail and leave the connection unusable.
 */
class Http1ClientCodecTest {
  private static final String BODY = "x".repeat(1500);

  /** Valid exchanges: the request's method, then the upstream's bytes (one or more responses). */
  private static final String[][] VALID = {
      {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: nginx\r\n\r\nhello"},
      {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 1500\r\nContent-Type: text/plain\r\nX-Empty:\r\n"
          + "X-Spaces:   padded value \t \r\n\r\n" + BODY},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n"
          + "A ;e\r\n0123456789\r\n0\r\n\r\n"},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nTrailer: grpc-status\r\n\r\n"
          + "3\r\nabc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n"},
      {"GET", "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"},
      {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"},
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1500\r\n\r\n"},
      {"GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
          + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"},
      {"GET", "HTTP/1.1 404 Not Here\r\nContent-Length: 0\r\n\r\n"},
      {"GET", "HTTP/1.1 299 \r\nContent-Length: 1\r\n\r\nz"},
      {"GET", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nz"},
      {"GET", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"},
      {"GET", "HTTP/1.1 200 OK\r\nX-Obs: caf\u00e9\r\nContent-Length: 0\r\n\r\n"},
      {"GET", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n"},
      {"GET", "HTTP/1.1 200 OK\r\n" + "X-N: 1\r\n".repeat(99) + "Content-Length: 0\r\n\r\n"},
      {"GET", "HTTP/1.1 102 Processing\r\n\r\n".repeat(100) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
  };

  /** Responses to refuse, each with the reason the failure names. */
  private static final String[][] INVALID = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "both"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "more than one Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "other than chunked"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          "other than chunked"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", "other than chunked"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", "other than chunked"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", "more than one Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", "not a number"},
      {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"},
      {"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", "obs-fold"},
      {"HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n", "whitespace before"},
      {"HTTP/1.1 200 OK\r\nX(A): 1\r\nContent-Length: 0\r\n\r\n", "not a token"},
      {"HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n", "without a colon"},
      {"HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n", "not a token"},
      {"HTTP/1.1 200 OK\r\nX-A: 1\u007f\r\nContent-Length: 0\r\n\r\n", "control character"},
      {"HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n", "control character"},
      {"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", "bare CR"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", "CRLF"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", "chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "chunk size"},
      {"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", "status line"},
      {"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "three digits"},
      {"ICY 200 OK\r\n\r\n", "status line"},
      {"HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(70_000) + "\r\n\r\n", "larger than"},
      {"HTTP/1.1 200 OK\r\n" + "X-N: 1\r\n".repeat(101) + "\r\n", "more than 100 header fields"},
      {"HTTP/1.1 100 Continue\r\n\r\n".repeat(1000) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
          "more than 100 interim"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + "T: 1\r\n".repeat(101) + "\r\n",
          "more than 100 header fields"},
  };

  @Test
  void decodesAsNettysCodecDidHoweverTheBytesAreSplit() {
    Random random = new Random(42);
    for (String[] exchange : VALID) {
      HttpMethod method = HttpMethod.valueOf(exchange[0]);
      byte[] bytes = exchange[1].getBytes(StandardCharsets.ISO_8859_1);
      List<String> netty = decode(() -> new HttpClientCodec(4096, 64 * 1024, 64 * 1024), method, bytes, List.of());
      List<List<Integer>> splits = new ArrayList<>();
      splits.add(List.of());
      List<Integer> everyByte = new ArrayList<>();
      for (int i = 1; i < bytes.length; i++) {
        everyByte.add(i);
      }
      splits.add(everyByte);
      for (int r = 0; r < 20; r++) {
        List<Integer> cuts = new ArrayList<>();
        for (int i = 1; i < bytes.length; i++) {
          if (random.nextInt(8) == 0) {
            cuts.add(i);
          }
        }
        splits.add(cuts);
      }
      for (List<Integer> cuts : splits) {
        assertEquals(netty, decode(() -> new Http1ClientCodec(100, true), method, bytes, cuts),
            exchange[1].substring(0, Math.min(60, exchange[1].length())) + " split at " + cuts);
      }
    }
  }

  @Test
  void refusesWhatHostileInputsLists() {
    for (String[] bad : INVALID) {
      byte[] bytes = bad[0].getBytes(StandardCharsets.ISO_8859_1);
      for (int step : new int[] {bytes.length, 1, 7}) {
        Http1ClientCodec codec = new Http1ClientCodec(100, true);
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
        releaseAll(ch.outboundMessages());
        for (int i = 0; i < bytes.length; i += step) {
          ch.writeInbound(Unpooled.copiedBuffer(bytes, i, Math.min(step, bytes.length - i)));
        }
        String failure = null;
        for (Object o; (o = ch.readInbound()) != null; ) {
          if (o instanceof HttpObject h && h.decoderResult().isFailure()) {
            failure = h.decoderResult().cause().getMessage();
          }
          ReferenceCountUtil.release(o);
        }
        assertNotNull(failure, "refused: " + bad[0].substring(0, Math.min(50, bad[0].length())));
        assertTrue(failure.contains(bad[1]), failure + " should name " + bad[1]);
        assertFalse(codec.reusable());
        ch.finishAndReleaseAll();
      }
    }
  }

  @Test
  void readUntilCloseEndsAtTheCloseAndIsNotReused() {
    Http1ClientCodec codec = new Http1ClientCodec(100, true);
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    releaseAll(ch.outboundMessages());
    ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\n\r\nabc", StandardCharsets.US_ASCII));
    ch.writeInbound(Unpooled.copiedBuffer("def", StandardCharsets.US_ASCII));
    assertFalse(codec.reusable());
    ch.close();
    List<String> seen = drain(ch);
    assertEquals(List.of("HTTP/1.1 200", "body abcdef", "end"), seen);
  }

  @Test
  void bytesAfterA101GoToWhateverReplacesTheCodec() {
    Http1ClientCodec codec = new Http1ClientCodec(100, true);
    List<Object> tunnel = new ArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.pipeline().addLast(codec, new io.netty.channel.ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse r && r.status().code() == 101) {
          ctx.pipeline().remove(codec);
        }
        tunnel.add(msg);
      }
    });
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws"));
    releaseAll(ch.outboundMessages());
    ch.writeInbound(Unpooled.copiedBuffer(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0081\u0002hi", StandardCharsets.ISO_8859_1));
    assertEquals(1, tunnel.size(), "only the 101 itself is decoded");
    ByteBuf early = codec.takeLeftover();
    assertNotNull(early);
    assertEquals("\u0081\u0002hi", early.toString(StandardCharsets.ISO_8859_1));
    early.release();
    assertNull(codec.takeLeftover());
    releaseAll(tunnel);
    ch.finishAndReleaseAll();
  }

  @Test
  void encodesRequestsAsNettysCodecDid() {
    List<Supplier<List<HttpObject>>> requests = List.of(
        () -> List.of(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a?b=c")),
        () -> List.of(request(HttpMethod.GET, "/x", Map.of("host", "example.com", "x-request-id", "abc")),
            LastHttpContent.EMPTY_LAST_CONTENT),
        () -> List.of(request(HttpMethod.POST, "/post", Map.of("content-length", "5")),
            new DefaultHttpContent(Unpooled.copiedBuffer("he", StandardCharsets.US_ASCII)),
            new DefaultLastHttpContent(Unpooled.copiedBuffer("llo", StandardCharsets.US_ASCII))),
        () -> {
          DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer("tail",
              StandardCharsets.US_ASCII));
          last.trailingHeaders().add("grpc-status", "0");
          return List.of(request(HttpMethod.POST, "/chunked", Map.of("transfer-encoding", "chunked")),
              new DefaultHttpContent(Unpooled.copiedBuffer(BODY, StandardCharsets.US_ASCII)),
              new DefaultHttpContent(Unpooled.EMPTY_BUFFER), last);
        },
        () -> List.of(request(HttpMethod.PUT, "/chunked", Map.of("transfer-encoding", "chunked")),
            LastHttpContent.EMPTY_LAST_CONTENT),
        () -> List.of(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.OPTIONS, "http://h:80")),
        () -> List.of(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "")));
    for (Supplier<List<HttpObject>> r : requests) {
      assertEquals(encode(new HttpClientCodec(), r.get()), encode(new Http1ClientCodec(100, true), r.get()));
    }
  }

  /** Bytes no request waits for (a body after a response to HEAD) close the connection rather than wait in it. */
  @Test
  void bytesNoRequestAwaitsCloseTheConnection() {
    Http1ClientCodec codec = new Http1ClientCodec(100, false);
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/"));
    releaseAll(ch.outboundMessages());
    ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        StandardCharsets.US_ASCII));
    assertEquals(List.of("HTTP/1.1 200", "  content-length=5", "end"), drain(ch));
    assertFalse(codec.reusable());
    assertFalse(ch.isOpen());
    ch.finishAndReleaseAll();
  }

  /** Without Envoy's enable_trailers, a response's trailers are read, checked and dropped, and a request's unwritten. */
  @Test
  void dropsTrailersBothWaysUnlessEnabled() {
    byte[] response = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
        + "grpc-status: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    List<String> seen = decode(() -> new Http1ClientCodec(100, false), HttpMethod.GET, response, List.of());
    assertEquals(List.of("HTTP/1.1 200", "  transfer-encoding=chunked", "body abc", "end"), seen.subList(0, 4));
    byte[] tooMany = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + "T: 1\r\n".repeat(101) + "\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    EmbeddedChannel ch = new EmbeddedChannel(new Http1ClientCodec(100, false));
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    releaseAll(ch.outboundMessages());
    ch.writeInbound(Unpooled.copiedBuffer(tooMany));
    boolean failed = false;
    for (Object o; (o = ch.readInbound()) != null; ) {
      failed |= ((HttpObject) o).decoderResult().isFailure();
      io.netty.util.ReferenceCountUtil.release(o);
    }
    assertTrue(failed, "dropped trailers are still checked");
    ch.finishAndReleaseAll();

    DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer("tail", StandardCharsets.US_ASCII));
    last.trailingHeaders().add("grpc-status", "0");
    assertEquals("POST /c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n4\r\ntail\r\n0\r\n\r\n",
        encode(new Http1ClientCodec(100, false),
            List.of(request(HttpMethod.POST, "/c", Map.of("transfer-encoding", "chunked")), last)));
  }

  private static HttpRequest request(HttpMethod method, String uri, Map<String, String> headers) {
    HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
    headers.forEach((k, v) -> r.headers().add(k, v));
    return r;
  }

  private static String encode(ChannelHandler codec, List<HttpObject> messages) {
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    for (HttpObject m : messages) {
      ch.writeOutbound(m);
    }
    StringBuilder out = new StringBuilder();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      out.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    ch.finishAndReleaseAll();
    return out.toString();
  }

  private static List<String> decode(Supplier<ChannelHandler> codec, HttpMethod method, byte[] bytes,
      List<Integer> cuts) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
    releaseAll(ch.outboundMessages());
    int from = 0;
    for (int cut : cuts) {
      ch.writeInbound(Unpooled.copiedBuffer(bytes, from, cut - from));
      from = cut;
    }
    ch.writeInbound(Unpooled.copiedBuffer(bytes, from, bytes.length - from));
    List<String> seen = drain(ch);
    ch.finishAndReleaseAll();
    return seen;
  }

  /** What a decoder emitted, normalised: body bytes of adjacent contents are joined, as reads may split them. */
  private static List<String> drain(EmbeddedChannel ch) {
    List<String> seen = new ArrayList<>();
    StringBuilder body = new StringBuilder();
    for (Object o; (o = ch.readInbound()) != null; ) {
      try {
        HttpObject h = (HttpObject) o;
        assertFalse(h.decoderResult().isFailure(), () -> h.decoderResult().cause().toString());
        if (h instanceof HttpResponse r) {
          seen.add(r.protocolVersion() + " " + r.status().code()
              + (r.status().reasonPhrase().equals(io.netty.handler.codec.http.HttpResponseStatus.valueOf(
                  r.status().code()).reasonPhrase()) ? "" : " [" + r.status().reasonPhrase() + "]"));
          // names arrive lower-cased (as Envoy forwards them); Netty's codec kept their case
          r.headers().forEach(e -> seen.add("  " + e.getKey().toLowerCase(java.util.Locale.ROOT) + "="
              + e.getValue()));
        }
        if (h instanceof HttpContent c) {
          body.append(c.content().toString(StandardCharsets.ISO_8859_1));
          if (c instanceof LastHttpContent l) {
            if (body.length() > 0) {
              seen.add("body " + body);
              body.setLength(0);
            }
            l.trailingHeaders().forEach(e -> seen.add("  trailer " + e.getKey().toLowerCase(java.util.Locale.ROOT)
                + "=" + e.getValue()));
            seen.add("end");
          } else if (body.length() > 0 && !ch.inboundMessages().isEmpty()
              && !(ch.inboundMessages().peek() instanceof HttpContent)) {
            seen.add("body " + body);
            body.setLength(0);
          }
        }
      } finally {
        ReferenceCountUtil.release(o);
      }
    }
    if (body.length() > 0) {
      seen.add("body " + body);
    }
    return seen;
  }

  private static void releaseAll(java.util.Collection<Object> messages) {
    for (Object o : messages) {
      ReferenceCountUtil.release(o);
    }
    messages.clear();
  }
}
