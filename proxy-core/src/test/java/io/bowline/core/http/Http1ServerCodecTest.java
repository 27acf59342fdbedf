package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The downstream HTTP/1.1 codec against Netty's HttpServerCodec, which it replaced: the same requests decode to the
 * same method, target, version, headers, body and trailers however the bytes are split into reads; the same
 * responses encode to the same bytes; and the requests HOSTILE-INPUTS H1 lists fail with the status they are owed.
 */
class Http1ServerCodecTest {
  private static final String BODY = "x".repeat(1500);
  private static final int MAX_HEAD = 60 * 1024;

  /** Valid requests: the bytes of one or more pipelined requests. */
  private static final String[] VALID = {
      "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: wrk\r\n\r\n",
      "POST /upload?x=1&y=%20 HTTP/1.1\r\nHost: a\r\nContent-Length: 1500\r\nContent-Type: text/plain\r\n"
          + "X-Empty:\r\nX-Spaces:   padded value \t \r\n\r\n" + BODY,
      "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n"
          + "A ;e\r\n0123456789\r\n0\r\n\r\n",
      "POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nTE: trailers\r\n\r\n"
          + "3\r\nabc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\nHEAD /c HTTP/1.1\r\nHost: c\r\n\r\n",
      "\r\n\r\nGET /after-empty-lines HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET http://example.com/abs?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
      "PURGE /cache HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\nX-Obs: caf\u00e9\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n" + "X-N: 1\r\n".repeat(99) + "\r\n",
      "PUT /zero HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
  };

  /** Requests to refuse, each with the decoder failure's type: 414, 431 or 400 (anything else). */
  private static final Object[][] INVALID = {
      {"GET / HTTP/1.1\nHost: a\n\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\u007f\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u0000b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
      {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"GET /a\u0001b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
      {"GET /\r\nHost: a\r\n\r\n", 400},
      {"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400},
      {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"\u0001GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\nb\r\nabc\r\n", 400},
      {"GET /" + "a".repeat(MAX_HEAD + 10) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(MAX_HEAD + 10) + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nHost: a\r\n" + "X-N: 1\r\n".repeat(100) + "\r\n", 431},
  };

  @Test
  void decodesWhatNettyDecodesHoweverTheBytesAreSplit() {
    Random random = new Random(42);
    for (String request : VALID) {
      byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
      List<String> expected = decode(() -> new HttpServerCodec(nettyConfig()), bytes, new int[] {bytes.length});
      assertEquals(expected, decode(Http1ServerCodecTest::codec, bytes, new int[] {bytes.length}), request);
      int[] single = new int[bytes.length];
      java.util.Arrays.fill(single, 1);
      assertEquals(expected, decode(Http1ServerCodecTest::codec, bytes, single), "byte by byte: " + request);
      for (int round = 0; round < 20; round++) {
        List<Integer> parts = new ArrayList<>();
        for (int left = bytes.length; left > 0; ) {
          int n = Math.min(left, 1 + random.nextInt(Math.max(1, bytes.length / 3)));
          parts.add(n);
          left -= n;
        }
        assertEquals(expected, decode(Http1ServerCodecTest::codec, bytes,
            parts.stream().mapToInt(Integer::intValue).toArray()), "split " + parts + ": " + request);
      }
    }
  }

  @Test
  void refusesWhatRfc9112Forbids() {
    for (Object[] c : INVALID) {
      String request = (String) c[0];
      byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
      for (int[] split : new int[][] {{bytes.length}, ones(bytes.length)}) {
        List<String> out = decode(Http1ServerCodecTest::codec, bytes, split);
        String shown = request.length() > 80 ? request.substring(0, 80) : request;
        assertTrue(out.get(out.size() - 1).startsWith("FAILED " + c[1]), shown + " -> " + out);
      }
    }
  }

  @Test
  void nothingAfterARefusalIsParsed() {
    byte[] bytes = ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"
        + "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    List<String> out = decode(Http1ServerCodecTest::codec, bytes, new int[] {bytes.length});
    assertEquals(1, out.size(), out.toString());
    assertTrue(out.get(0).startsWith("FAILED 400"), out.toString());
  }

  @Test
  void identicalContentLengthsFrameTheBodyAndLeaveOneValue() {
    byte[] bytes = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc"
        .getBytes(StandardCharsets.ISO_8859_1);
    List<String> out = decode(Http1ServerCodecTest::codec, bytes, new int[] {bytes.length});
    assertEquals(List.of("REQUEST POST / HTTP/1.1 [host=a, content-length=3]", "LAST abc []"), out);
  }

  /** As in Envoy's codecs, names go on in lower case; a common one is the shared constant lookups match by identity. */
  @Test
  void namesAreLowerCasedAndCommonOnesShared() {
    EmbeddedChannel ch = new EmbeddedChannel(codec());
    ch.writeInbound(Unpooled.copiedBuffer("POST / HTTP/1.1\r\nHOST: a\r\nContent-Length: 0\r\nX-Custom-Name: v\r\n\r\n",
        StandardCharsets.ISO_8859_1));
    HttpRequest r = ch.readInbound();
    List<CharSequence> names = new ArrayList<>();
    r.headers().iteratorCharSequence().forEachRemaining(e -> names.add(e.getKey()));
    assertEquals(3, names.size());
    assertTrue(names.get(0) == io.netty.handler.codec.http.HttpHeaderNames.HOST, names.toString());
    assertTrue(names.get(1) == io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH, names.toString());
    assertEquals("x-custom-name", names.get(2).toString());
    ReferenceCountUtil.release(ch.readInbound());
    ch.finishAndReleaseAll();
  }

  /** Responses as the connection manager writes them, after the request whose method decides a HEAD's framing. */
  @Test
  void encodesWhatNettyEncodes() {
    String[] methods = {"GET", "HEAD", "GET", "GET", "GET", "GET", "GET", "GET"};
    List<Supplier<List<HttpObject>>> responses = List.of(
        () -> List.of(response(200, "Content-Length", "5"), last("hello")),
        () -> List.of(response(200, "Content-Length", "1500"), new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER)),
        () -> List.of(response(200, "Transfer-Encoding", "chunked"), content("abc"), content(""),
            content(BODY), trailers("grpc-status", "0")),
        () -> List.of(response(204, "Content-Length", "0"), last("")),
        () -> List.of(response(304, "ETag", "\"x\""), last("")),
        () -> List.of(full(404, "not here")),
        () -> List.of(response(200, "Transfer-Encoding", "chunked"), last("end")),
        () -> List.of(full(100, ""), response(200, "Content-Length", "2"), last("ok")));
    for (int i = 0; i < responses.size(); i++) {
      String request = methods[i] + " / HTTP/1.1\r\nHost: a\r\n\r\n";
      assertEquals(encode(() -> new HttpServerCodec(nettyConfig()), request, responses.get(i).get()),
          encode(Http1ServerCodecTest::codec, request, responses.get(i).get()), "response " + i);
    }
  }

  @Test
  void anHttp10RequestIsAnsweredInHttp10() {
    DefaultHttpResponse r = response(200, "Content-Length", "2");
    r.setProtocolVersion(HttpVersion.HTTP_1_0);
    assertEquals("HTTP/1.0 200 OK\r\nServer: bowline\r\nContent-Length: 2\r\n\r\nok",
        encode(Http1ServerCodecTest::codec, "GET / HTTP/1.0\r\n\r\n", List.of(r, last("ok"))));
  }

  private static Http1ServerCodec codec() {
    return new Http1ServerCodec(MAX_HEAD, 100, true);
  }

  private static HttpDecoderConfig nettyConfig() {
    return new HttpDecoderConfig().setMaxInitialLineLength(MAX_HEAD).setMaxHeaderSize(MAX_HEAD)
        .setMaxChunkSize(64 * 1024).setValidateHeaders(true).setStrictLineParsing(true)
        .setAllowDuplicateContentLengths(false).setAllowPartialChunks(true);
  }

  private static int[] ones(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, 1);
    return a;
  }

  /** What a codec makes of the bytes read in the given pieces, one line per message, bodies joined. */
  private static List<String> decode(Supplier<ChannelHandler> codec, byte[] bytes, int[] parts) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    List<String> out = new ArrayList<>();
    StringBuilder body = new StringBuilder();
    int at = 0;
    for (int n : parts) {
      ch.writeInbound(Unpooled.wrappedBuffer(bytes, at, n));
      at += n;
      for (Object m; (m = ch.readInbound()) != null; ) {
        try {
          describe(m, out, body);
        } finally {
          ReferenceCountUtil.release(m);
        }
      }
      if (!out.isEmpty() && out.get(out.size() - 1).startsWith("FAILED")) {
        break;
      }
    }
    ch.finishAndReleaseAll();
    return out;
  }

  private static void describe(Object m, List<String> out, StringBuilder body) {
    if (m instanceof HttpObject o && o.decoderResult().isFailure()) {
      Throwable cause = o.decoderResult().cause();
      int status = cause instanceof TooLongHttpLineException ? 414
          : cause instanceof TooLongHttpHeaderException ? 431 : 400;
      out.add("FAILED " + status + " " + cause.getMessage());
      return;
    }
    if (m instanceof HttpRequest r) {
      List<String> headers = new ArrayList<>();
      for (Map.Entry<String, String> e : r.headers()) {
        headers.add(e.getKey().toLowerCase() + "=" + e.getValue());
      }
      out.add("REQUEST " + r.method() + " " + r.uri() + " " + r.protocolVersion() + " " + headers);
    }
    if (m instanceof HttpContent c) {
      body.append(c.content().toString(StandardCharsets.ISO_8859_1));
      if (m instanceof LastHttpContent last) {
        List<String> trailers = new ArrayList<>();
        for (Map.Entry<String, String> e : last.trailingHeaders()) {
          trailers.add(e.getKey().toLowerCase() + "=" + e.getValue());
        }
        out.add("LAST " + body + " " + trailers);
        body.setLength(0);
      }
    }
  }

  /** The bytes a codec writes for the responses to one request. */
  private static String encode(Supplier<ChannelHandler> codec, String request, List<HttpObject> responses) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
    for (Object m; (m = ch.readInbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
    for (HttpObject r : responses) {
      ch.write(r);
    }
    ch.flush();
    StringBuilder sb = new StringBuilder();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      sb.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    assertFalse(ch.finishAndReleaseAll(), "nothing left over");
    return sb.toString();
  }

  private static DefaultHttpResponse response(int code, String name, String value) {
    DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code));
    r.headers().add("Server", "bowline").add(name, value);
    return r;
  }

  private static DefaultFullHttpResponse full(int code, String body) {
    DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
        Unpooled.copiedBuffer(body, StandardCharsets.ISO_8859_1));
    if (code >= 200) {
      r.headers().add("Content-Length", body.length()).add("Connection", "close");
    }
    return r;
  }

  private static DefaultHttpContent content(String s) {
    return new DefaultHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
  }

  private static DefaultLastHttpContent last(String s) {
    return new DefaultLastHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
  }

  private static DefaultLastHttpContent trailers(String name, String value) {
    DefaultLastHttpContent l = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    l.trailingHeaders().add(name, value);
    return l;
  }
}
