package io.bowline.core.http;

import io.bowline.core.filter.ArrayHttpHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * HTTP/1.1 toward a downstream client in one handler: it decodes requests and encodes the responses, with Netty's
 * message types ({@link io.netty.handler.codec.http.HttpRequest}, {@link HttpContent}, {@link LastHttpContent},
 * {@link HttpResponse}) on the inside, so {@link Http1ServerHandler} and the h2c upgrade see what Netty's
 * {@code HttpServerCodec} gave them.
 *
 * <p>Why not Netty's codec: it copied each request head into a char buffer, made a {@code String} of every header
 * name and value, validated each again as it entered the header map, cut each body out of the read as a derived
 * buffer, and wrote a response head field by field through a second handler. Here a request head is copied once
 * into a byte array that its names and values share as {@link AsciiString}s, validated in one pass, and forwarded
 * upstream by bulk copy; a body that is the rest of a read is handed on as that read's buffer.
 *
 * <p>What it refuses (the request fails with a decoder result saying why; {@link Http1ServerHandler} answers 400, 414
 * or 431 and closes): a request line that is not {@code method SP request-target SP HTTP/d.d} with single spaces, a
 * method that is not a token, control bytes in the target, a bare LF or CR, obs-fold, whitespace before a header's
 * colon, a name that is not a token, control characters in a value, more fields than the connection manager's
 * {@code max_headers_count}, Content-Length values that are not digits or disagree, a malformed chunk, a request
 * line or head over {@code max_request_headers_kb}. After a refusal nothing more on the connection is parsed.
 */
public final class Http1ServerCodec extends Http1Decoder implements HttpServerUpgradeHandler.SourceCodec {
  private static final byte[] HTTP_1_1 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HTTP_1_0 = "HTTP/1.0 ".getBytes(StandardCharsets.US_ASCII);
  private static final List<HttpMethod> METHODS = List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT,
      HttpMethod.HEAD, HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.CONNECT,
      HttpMethod.TRACE);

  /** How the body of the response being written goes out. */
  private enum Body { NONE, RAW, CHUNKED, EMPTY }

  /** max_request_headers_kb: the request line's limit (414) and, again, the header block's (431). */
  private final int maxHeadBytes;
  /** The methods of requests decoded and not yet answered: a response to HEAD has no body. */
  private final PendingMethods methods = new PendingMethods();
  /** A message went on in this read: the handler decides about reading on, not this codec. */
  private boolean firedInRead;
  /** Removed by an h2c upgrade: bytes read after the upgrade request belong to HTTP/2, once it is installed. */
  private boolean upgrading;
  private Body body = Body.NONE;
  private final HeadBuffer heads = new HeadBuffer();
  private final boolean trailers;

  /**
   * @param maxHeadBytes the request line's limit (414 beyond it) and, again, the header block's (431)
   * @param maxFields header fields in a request head (and trailers) beyond which it is refused with 431
   * @param trailers Envoy's {@code enable_trailers}: request trailers passed on and response trailers written;
   *     when false both are dropped, as Envoy's HTTP/1 codec does by default
   */
  public Http1ServerCodec(int maxHeadBytes, int maxFields, boolean trailers) {
    super(maxFields, maxHeadBytes, trailers);
    this.maxHeadBytes = maxHeadBytes;
    this.trailers = trailers;
  }

  // ------------------------------------------------------------------ requests

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (state == State.DONE) {
      in.release(); // after a refusal nothing on the connection is parsed
      return;
    }
    accumulate(ctx, in);
    decode(ctx);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (!firedInRead && cumulation != null && !ctx.channel().config().isAutoRead()) {
      ctx.read(); // a partial head or chunk line waits for bytes the paused channel would otherwise never read
    }
    firedInRead = false;
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseCumulation();
    heads.release();
    ctx.fireChannelInactive();
  }

  @Override
  public void upgradeFrom(ChannelHandlerContext ctx) {
    upgrading = true;
    ctx.pipeline().remove(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    heads.release();
    ByteBuf rest = cumulation;
    cumulation = null;
    if (rest == null || !rest.isReadable() || !ctx.channel().isActive()) {
      if (rest != null) {
        rest.release();
      }
      return;
    }
    if (upgrading) {
      // HttpServerUpgradeHandler removes this codec before it installs HTTP/2: the bytes wait for that
      var pipeline = ctx.pipeline();
      ctx.channel().eventLoop().execute(() -> pipeline.fireChannelRead(rest).fireChannelReadComplete());
      return;
    }
    ctx.fireChannelRead(rest); // to what replaces HTTP/1 here (a tunnel)
    ctx.fireChannelReadComplete();
  }

  @Override
  protected void fire(ChannelHandlerContext ctx, Object msg) {
    firedInRead = true;
    ctx.fireChannelRead(msg);
  }

  @Override
  protected boolean head(ChannelHandlerContext ctx, ByteBuf buf) {
    int end = blocks.end(buf, true);
    if (end == -2) {
      failHead(ctx, new InvalidRequest("bare LF in the request head"));
      return false;
    }
    if (end == -1) {
      if (!blocks.started() && buf.readableBytes() > maxHeadBytes) {
        failHead(ctx, new TooLongHttpLineException("request line longer than " + maxHeadBytes + " bytes"));
      } else if (buf.readableBytes() > 2 * maxHeadBytes) {
        failHead(ctx, new TooLongHttpHeaderException("request head larger than " + maxHeadBytes + " bytes"));
      }
      return false;
    }
    byte[] head = new byte[end];
    buf.readBytes(head);
    onHead(ctx, head);
    return true;
  }

  /** Parses a complete head and fires the request (and its end, when it has no body). */
  private void onHead(ChannelHandlerContext ctx, byte[] h) {
    // request line: method SP request-target SP HTTP/d.d CRLF, each part separated by exactly one SP
    int sp1 = 0;
    while (Http1Syntax.tchar(h[sp1])) {
      sp1++;
    }
    if (sp1 == 0 || h[sp1] != ' ') {
      failHead(ctx, new InvalidRequest("request method is not a token followed by one space"));
      return;
    }
    int sp2 = sp1 + 1;
    for (byte c; (c = h[sp2]) != ' '; sp2++) {
      if (c <= 0x20 && c >= 0 || c == 0x7f) {
        failHead(ctx, new InvalidRequest(c == '\r' ? "request line without a version"
            : "control character or whitespace in the request target"));
        return;
      }
    }
    int eol = sp2 + 9;
    if (sp2 == sp1 + 1 || eol + 1 >= h.length || h[sp2 + 1] != 'H' || h[sp2 + 2] != 'T' || h[sp2 + 3] != 'T'
        || h[sp2 + 4] != 'P' || h[sp2 + 5] != '/' || !digit(h[sp2 + 6]) || h[sp2 + 7] != '.' || !digit(h[sp2 + 8])
        || h[eol] != '\r' || h[eol + 1] != '\n') {
      failHead(ctx, new InvalidRequest("request line is not method SP request-target SP HTTP-version"));
      return;
    }
    if (eol > maxHeadBytes) {
      failHead(ctx, new TooLongHttpLineException("request line longer than " + maxHeadBytes + " bytes"));
      return;
    }
    if (h.length - eol - 2 > maxHeadBytes) {
      failHead(ctx, new TooLongHttpHeaderException("request head larger than " + maxHeadBytes + " bytes"));
      return;
    }
    HttpVersion version = version(h[sp2 + 6] - '0', h[sp2 + 8] - '0');
    HttpMethod method = method(h, sp1);
    String uri = new String(h, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
    ArrayHttpHeaders headers = new ArrayHttpHeaders();
    framing.reset();
    String problem = Http1Syntax.parseFields(h, eol + 2, headers, framing, maxFields);
    if (problem != null) {
      failHead(ctx, problem.startsWith(Http1Syntax.TOO_MANY_FIELDS) ? new TooLongHttpHeaderException(problem)
          : new InvalidRequest(problem));
      return;
    }
    boolean chunked = false;
    long length = 0;
    if (framing.transferEncoding != null) {
      // anything but a final "chunked" is refused by H1RequestChecks; the body is framed by chunks regardless
      chunked = Http1Syntax.endsWithChunked(framing.transferEncoding);
    } else if (framing.contentLengths > 0) {
      length = framing.contentLengths == 1 ? framing.contentLength : agreedLength(headers);
      if (length < 0) {
        failHead(ctx, new InvalidRequest(length == -1 ? "invalid Content-Length" : "conflicting Content-Length"));
        return;
      }
    }
    methods.add(method);
    fire(ctx, new DefaultHttpRequest(version, method, uri, headers));
    if (state == State.DONE || ctx.isRemoved()) {
      return;
    }
    if (framing.transferEncoding != null && !chunked) {
      state = State.DONE; // refused by the handler: what follows cannot be framed
    } else if (chunked) {
      state = State.CHUNK_SIZE;
    } else if (length > 0) {
      state = State.FIXED;
      remaining = length;
    } else {
      fire(ctx, LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  /**
   * The one length that several Content-Length values (lines or a comma list) agree on, which then stays as the only
   * value (H1-02: identical duplicates forward exactly one); -1 for a value that is not 1 to 18 digits, -2 when they
   * disagree.
   */
  private static long agreedLength(HttpHeaders headers) {
    long agreed = -3;
    for (String line : headers.getAll(HttpHeaderNames.CONTENT_LENGTH)) {
      for (String part : line.split(",", -1)) {
        String p = part.trim();
        if (p.isEmpty() || p.length() > 18 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
          return -1;
        }
        long v = Long.parseLong(p);
        if (agreed != -3 && agreed != v) {
          return -2;
        }
        agreed = v;
      }
    }
    headers.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(agreed));
    return agreed;
  }

  private static boolean digit(byte c) {
    return c >= '0' && c <= '9';
  }

  /**
   * HTTP/1.0, HTTP/1.1, and any later 1.x as 1.1 (RFC 9110 §2.5); another major version as itself, for the handler
   * to answer 505.
   */
  private static HttpVersion version(int major, int minor) {
    if (major == 1) {
      return minor == 0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
    }
    return new HttpVersion("HTTP", major, minor, true);
  }

  private static HttpMethod method(byte[] h, int length) {
    for (HttpMethod m : METHODS) {
      AsciiString name = m.asciiName();
      if (name.length() == length && startsWith(h, name)) {
        return m;
      }
    }
    return HttpMethod.valueOf(new String(h, 0, length, StandardCharsets.US_ASCII));
  }

  private static boolean startsWith(byte[] h, AsciiString name) {
    byte[] a = name.array();
    int o = name.arrayOffset();
    for (int i = 0; i < name.length(); i++) {
      if (h[i] != a[o + i]) {
        return false;
      }
    }
    return true;
  }

  private void failHead(ChannelHandlerContext ctx, DecoderException cause) {
    fail();
    DefaultFullHttpRequest failed =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request", Unpooled.EMPTY_BUFFER);
    failed.setDecoderResult(DecoderResult.failure(cause));
    fire(ctx, failed);
  }

  @Override
  protected void failBody(ChannelHandlerContext ctx, String reason) {
    fail();
    DefaultLastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    failed.setDecoderResult(DecoderResult.failure(new InvalidRequest(reason)));
    fire(ctx, failed);
  }

  private void fail() {
    releaseCumulation();
    state = State.DONE;
    blocks.reset();
  }

  // ------------------------------------------------------------------ responses

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse res) {
      ByteBuf head = encodeHead(ctx, res);
      if (!(msg instanceof HttpContent c)) {
        ctx.write(head, promise);
        return;
      }
      ByteBuf content = c.content();
      if (body == Body.RAW && content.readableBytes() <= head.writableBytes()) {
        head.writeBytes(content); // a whole small response (a local reply) in one buffer
        content.release();
        ctx.write(head, promise);
        body = Body.NONE;
        return;
      }
      ctx.write(head, ctx.voidPromise());
      writeContent(ctx, c, promise);
    } else if (msg instanceof HttpContent c) {
      writeContent(ctx, c, promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  private ByteBuf encodeHead(ChannelHandlerContext ctx, HttpResponse res) {
    HttpResponseStatus status = res.status();
    int code = status.code();
    HttpHeaders h = res.headers();
    boolean interim = code < 200 && code != 101;
    HttpMethod method = interim ? null : methods.poll(); // an interim response comes before the request's answer
    if (interim || code == 204 || code == 304 || code == 205 || method == HttpMethod.HEAD) {
      body = Body.EMPTY;
      if (interim || code == 204) {
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      } else if (code == 205) {
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.set(HttpHeaderNames.CONTENT_LENGTH, "0");
      }
    } else if (method == HttpMethod.CONNECT && code < 300) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING); // a tunnel's bytes follow, never a framed body
      body = Body.RAW;
    } else {
      body = HttpUtil.isTransferEncodingChunked(res) ? Body.CHUNKED : Body.RAW;
    }
    ByteBuf out = heads.take(ctx.alloc());
    out.writeBytes(res.protocolVersion() == HttpVersion.HTTP_1_0 ? HTTP_1_0 : HTTP_1_1);
    out.writeBytes(status.codeAsText().array(), status.codeAsText().arrayOffset(), 3);
    out.writeByte(' ');
    Http1Syntax.writeText(out, status.reasonPhrase());
    out.writeShort(0x0d0a);
    Http1Syntax.writeFields(out, h);
    heads.wrote(out);
    return out;
  }

  private void writeContent(ChannelHandlerContext ctx, HttpContent c, ChannelPromise promise) {
    boolean last = c instanceof LastHttpContent;
    Body mode = body;
    if (last) {
      body = Body.NONE;
    }
    if (mode == Body.CHUNKED) {
      Http1Syntax.writeChunked(ctx, c, promise, trailers);
      return;
    }
    ByteBuf content = c.content();
    if (mode == Body.RAW && content.isReadable()) {
      ctx.write(content, promise);
      return;
    }
    content.release(); // nothing to send: an empty piece, or a body the response must not have
    if (!promise.isVoid()) {
      ctx.write(Unpooled.EMPTY_BUFFER, promise);
    }
  }

  /** Why a request was refused; no stack trace, the reason is the whole story. */
  static final class InvalidRequest extends DecoderException {
    InvalidRequest(String reason) {
      super(reason);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
