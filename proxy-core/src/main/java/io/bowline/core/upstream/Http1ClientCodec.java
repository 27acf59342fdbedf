package io.bowline.core.upstream;

import io.bowline.core.filter.ArrayHttpHeaders;
import io.bowline.core.http.HeadBuffer;
import io.bowline.core.http.Http1Decoder;
import io.bowline.core.http.Http1Syntax;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/1.1 toward an upstream in one handler: it encodes the requests bowline forwards and decodes the responses,
 * emitting Netty's message types ({@link io.netty.handler.codec.http.HttpResponse}, {@link HttpContent},
 * {@link LastHttpContent}) so the rest of the engine does not know it from Netty's {@code HttpClientCodec}.
 *
 * <p>Why not Netty's codec: on the proxy path it copied every response head into a char buffer, made a
 * {@code String} of each header value, validated each header again as it entered the header map, and cut every
 * body out of the read buffer as a new derived buffer. Here a response head is copied once into a byte array that
 * its names and values share as {@link AsciiString}s (validated in the same pass and forwarded by bulk copy), and a
 * body that is the rest of a read is handed on as that read's buffer.
 *
 * <p>What it refuses (the response fails with a decoder result naming why, and the connection is never reused, as
 * HOSTILE-INPUTS H1-17 asks): a status line that is not {@code HTTP/1.0} or {@code HTTP/1.1} with three digits, a
 * bare LF, obs-fold, whitespace before a header's colon, a name that is not a token, control characters in a value,
 * Content-Length together with Transfer-Encoding, more than one Content-Length, a malformed chunk, a head or
 * trailer block over 68 KiB, more fields than the cluster's {@code max_headers_count} (100 by default, as Envoy),
 * and more than {@value #MAX_INTERIM} interim responses to one request.
 */
final class Http1ClientCodec extends Http1Decoder {
  private static final Logger logger = LoggerFactory.getLogger(Http1ClientCodec.class);
  /** Status line plus header block, as Netty's codec allowed them (4 KiB + 64 KiB). */
  static final int MAX_HEAD_BYTES = 4096 + 64 * 1024;
  /**
   * Interim responses one request may get before its final one: generous for 102 Processing on a long operation and
   * 103 Early Hints, but an upstream that answers with 1xx after 1xx (HOSTILE-INPUTS H1-17) gets a 502.
   */
  static final int MAX_INTERIM = 100;
  /** The methods of requests sent and not yet answered: a response to HEAD or CONNECT is framed differently. */
  private final io.bowline.core.http.PendingMethods methods = new io.bowline.core.http.PendingMethods();
  /** Bytes that followed a 101 response: the tunnel's, handed over by {@link #takeLeftover}. */
  private @Nullable ByteBuf leftover;
  private boolean reusable = true;
  private boolean chunkedRequest;
  /**
   * The size a request head's buffer starts at, following the heads written. Not a {@code HeadBuffer} kept from one
   * request to the next as the server codec has: a connection still busy when the proxy shuts down (a mirror to a
   * shadow that never answers) is closed by its event loop's shutdown without its handlers hearing of it, and a kept
   * buffer was then collected unreleased (MirrorIT, PARANOID leak detection). Each head's buffer belongs to its write.
   */
  private int headEstimate = 256;
  /** A 101 was read: what follows is the tunnel's. */
  private boolean upgraded;
  /** Interim responses to the request being answered. */
  private int interim;
  private final boolean trailers;

  /**
   * @param trailers Envoy's {@code enable_trailers}: request trailers written and response trailers passed on; when
   *     false both are dropped, as Envoy's HTTP/1 codec does by default
   */
  Http1ClientCodec(int maxFields, boolean trailers) {
    super(maxFields, MAX_HEAD_BYTES, trailers);
    this.trailers = trailers;
  }

  /**
   * False once a response was framed in a way that leaves the connection in doubt (read until close, a tunnel, a
   * decode failure, Transfer-Encoding on HTTP/1.0): it must not carry another request.
   */
  boolean reusable() {
    return reusable;
  }

  /** The bytes read after a 101 response, for the tunnel that replaces this codec; null when there were none. */
  @Nullable ByteBuf takeLeftover() {
    ByteBuf b = leftover;
    leftover = null;
    return b;
  }

  // ------------------------------------------------------------------ requests

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpRequest req) {
      methods.add(req.method());
      chunkedRequest = HttpUtil.isTransferEncodingChunked(req);
      ByteBuf head = encodeHead(ctx, req);
      if (msg instanceof HttpContent c) {
        ctx.write(head, ctx.voidPromise());
        writeContent(ctx, c, promise);
      } else {
        ctx.write(head, promise);
      }
    } else if (msg instanceof HttpContent c) {
      writeContent(ctx, c, promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  private ByteBuf encodeHead(ChannelHandlerContext ctx, HttpRequest req) {
    ByteBuf out = ctx.alloc().ioBuffer(headEstimate);
    Http1Syntax.writeText(out, req.method().asciiName());
    out.writeByte(' ');
    String uri = req.uri();
    if (uri.isEmpty()) {
      out.writeByte('/');
    } else {
      ByteBufUtil.writeUtf8(out, uri);
      if (uri.charAt(0) != '/' && needsRootPath(uri)) {
        out.writeByte('/'); // absolute-form without a path: "http://host" means "http://host/"
      }
    }
    out.writeByte(' ');
    Http1Syntax.writeText(out, req.protocolVersion().text());
    out.writeShort(0x0d0a);
    Http1Syntax.writeFields(out, req.headers());
    headEstimate = HeadBuffer.nextEstimate(headEstimate, out);
    return out;
  }

  private static boolean needsRootPath(String uri) {
    int scheme = uri.indexOf("://");
    return scheme > 0 && uri.indexOf('/', scheme + 3) < 0 && uri.indexOf('?', scheme + 3) < 0;
  }

  private void writeContent(ChannelHandlerContext ctx, HttpContent c, ChannelPromise promise) {
    ByteBuf body = c.content();
    boolean last = c instanceof LastHttpContent;
    if (!chunkedRequest) {
      if (!body.isReadable() && promise.isVoid()) {
        body.release(); // an empty end of a bodiless request: nothing to send
      } else {
        ctx.write(body, promise);
      }
      return;
    }
    Http1Syntax.writeChunked(ctx, c, promise, trailers);
  }

  // ------------------------------------------------------------------ responses

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    accumulate(ctx, in);
    decode(ctx);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (cumulation != null && !ctx.channel().config().isAutoRead()) {
      ctx.read(); // a partial head or chunk line waits for bytes the paused channel would otherwise never read
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseBuffers();
    if (state == State.UNTIL_CLOSE) {
      state = State.DONE;
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT); // the close is this body's end
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    ByteBuf rest = cumulation;
    cumulation = null;
    if (rest != null && upgraded && leftover == null && rest.isReadable()) {
      leftover = rest; // removed for a tunnel while the bytes after the 101 were being read
    } else if (rest != null) {
      rest.release();
    }
  }

  private void releaseBuffers() {
    releaseCumulation();
    if (leftover != null) {
      leftover.release();
      leftover = null;
    }
  }

  @Override
  protected boolean head(ChannelHandlerContext ctx, ByteBuf buf) {
    if (methods.isEmpty()) {
      // bytes no request waits for (a body sent after a response to HEAD, a second response): kept, they would be
      // read as the next request's response; the connection is closed instead, as Envoy's codec closes it on
      // "extraneous data after response complete"
      logger.debug("[{}] {} bytes from the upstream with no request awaiting them: closing", ctx.channel().id(),
          buf.readableBytes());
      releaseCumulation();
      state = State.DONE;
      reusable = false;
      ctx.close();
      return false;
    }
    int end = blocks.end(buf, true);
    if (end == -1) {
      if (buf.readableBytes() > MAX_HEAD_BYTES) {
        failBody(ctx, "response head larger than " + MAX_HEAD_BYTES + " bytes");
      }
      return false;
    }
    if (end == -2 || end > MAX_HEAD_BYTES) {
      failBody(ctx, end < 0 ? "bare LF in the response head"
          : "response head larger than " + MAX_HEAD_BYTES + " bytes");
      return false;
    }
    byte[] head = new byte[end];
    buf.readBytes(head);
    String problem = onHead(ctx, head);
    if (problem != null) {
      failBody(ctx, problem);
      return false;
    }
    return true;
  }

  /** Refuses the response being read (its head or its body) and leaves the connection unusable. */
  @Override
  protected void failBody(ChannelHandlerContext ctx, String reason) {
    releaseCumulation();
    state = State.DONE;
    reusable = false;
    blocks.reset();
    DefaultLastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    failed.setDecoderResult(DecoderResult.failure(new InvalidResponse(reason)));
    ctx.fireChannelRead(failed);
  }

  /** Parses a complete head and fires the response (and its end, when it has no body); a problem, or null. */
  private @Nullable String onHead(ChannelHandlerContext ctx, byte[] h) {
    // status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF
    int eol = indexOf(h, 0, '\r');
    if (h[eol + 1] != '\n') {
      return "bare CR in the response status line";
    }
    if (eol < 12 || h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/' || h[5] != '1'
        || h[6] != '.' || (h[7] != '0' && h[7] != '1') || h[8] != ' ') {
      return "response status line is not HTTP/1.0 or HTTP/1.1";
    }
    int code = digit(h[9]) * 100 + digit(h[10]) * 10 + digit(h[11]);
    if (code < 100 || code > 999 || (eol > 12 && h[12] != ' ')) {
      return "response status code is not three digits";
    }
    for (int i = 13; i < eol; i++) {
      if (!Http1Syntax.fieldByte(h[i])) {
        return "control character in the response reason phrase";
      }
    }
    HttpVersion version = h[7] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
    HttpResponseStatus status = status(code, h, eol);
    ArrayHttpHeaders headers = new ArrayHttpHeaders();
    framing.reset();
    String problem = Http1Syntax.parseFields(h, eol + 2, headers, framing, maxFields);
    if (problem != null) {
      return problem;
    }
    DefaultHttpResponse response = new DefaultHttpResponse(version, status, headers);
    if (code < 200) {
      if (code == 101) {
        methods.poll();
        state = State.DONE;
        upgraded = true;
        reusable = false;
        ctx.fireChannelRead(response);
        if (!ctx.isRemoved()) {
          ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        return null;
      }
      if (++interim > MAX_INTERIM) {
        return "more than " + MAX_INTERIM + " interim (1xx) responses to one request";
      }
      ctx.fireChannelRead(response); // interim: the final response follows for the same request
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
      return null;
    }
    interim = 0;
    HttpMethod method = methods.poll();
    if (method == HttpMethod.CONNECT && code < 300) {
      state = State.DONE; // a tunnel this codec does not carry: the connection is not used again
      reusable = false;
      ctx.fireChannelRead(response);
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
      return null;
    }
    if (method == HttpMethod.HEAD || code == 204 || code == 304) {
      ctx.fireChannelRead(response);
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
      return null;
    }
    if (framing.transferEncoding != null) {
      if (framing.contentLengths > 0) {
        return "response has both Content-Length and Transfer-Encoding";
      }
      if (!framing.onlyChunked()) {
        // a coding besides chunked (gzip, ...) would reach the client undeclared once the hop-by-hop field is
        // dropped, and a body not ending in chunked is framed only by the close: refused, as Envoy's codec does
        return "response Transfer-Encoding other than chunked";
      }
      state = State.CHUNK_SIZE;
      if (version == HttpVersion.HTTP_1_0) {
        reusable = false;
      }
    } else if (framing.contentLengths > 1) {
      return "response has more than one Content-Length";
    } else if (framing.contentLengths == 1) {
      if (framing.contentLength < 0) {
        return "response Content-Length is not a number";
      }
      if (framing.contentLength == 0) {
        ctx.fireChannelRead(response);
        ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        return null;
      }
      state = State.FIXED;
      remaining = framing.contentLength;
    } else {
      state = State.UNTIL_CLOSE;
      reusable = false;
    }
    ctx.fireChannelRead(response);
    return null;
  }

  private static HttpResponseStatus status(int code, byte[] h, int eol) {
    HttpResponseStatus known = HttpResponseStatus.valueOf(code);
    String phrase = known.reasonPhrase();
    int from = Math.min(13, eol);
    if (eol - from == phrase.length()) {
      boolean same = true;
      for (int i = 0; i < phrase.length() && same; i++) {
        same = h[from + i] == phrase.charAt(i);
      }
      if (same) {
        return known;
      }
    }
    return new HttpResponseStatus(code, new String(h, from, eol - from, java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  private static int digit(byte c) {
    return c >= '0' && c <= '9' ? c - '0' : -1000;
  }

  private static int indexOf(byte[] h, int from, char c) {
    for (int i = from; i < h.length; i++) {
      if (h[i] == c) {
        return i;
      }
    }
    return h.length;
  }

  /** Why an upstream response was refused; no stack trace, the reason is the whole story. */
  static final class InvalidResponse extends DecoderException {
    InvalidResponse(String reason) {
      super(reason);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
