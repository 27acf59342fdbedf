package io.bowline.core.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import org.jspecify.annotations.Nullable;

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
final class Http1ClientCodec extends ChannelDuplexHandler {
  /** Status line plus header block, as Netty's codec allowed them (4 KiB + 64 KiB). */
  static final int MAX_HEAD_BYTES = 4096 + 64 * 1024;
  private static final int MAX_CHUNK_LINE = 4096;
  /**
   * Interim responses one request may get before its final one: generous for 102 Processing on a long operation and
   * 103 Early Hints, but an upstream that answers with 1xx after 1xx (HOSTILE-INPUTS H1-17) gets a 502.
   */
  static final int MAX_INTERIM = 100;
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final HttpHeadersFactory TRAILERS =
      DefaultHttpHeadersFactory.trailersFactory().withValidation(false);
  /**
   * The trailers of a body that ended by its length, which has none: no header map per response (Netty's made an
   * empty one, 166 bytes). Nothing in the engine adds trailers to a response it received.
   */
  private static final HttpHeadersFactory NO_TRAILERS = new HttpHeadersFactory() {
    @Override
    public HttpHeaders newHeaders() {
      return io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE;
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE;
    }
  };
  private static final ByteBuf CRLF =
      Unpooled.unreleasableBuffer(Unpooled.directBuffer(2).writeByte('\r').writeByte('\n')).asReadOnly();
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private enum State { HEAD, FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, UNTIL_CLOSE, DONE, FAILED }

  /** At most this many header fields in a response head, and as many trailers (max_headers_count). */
  private final int maxFields;
  /** The methods of requests sent and not yet answered: a response to HEAD or CONNECT is framed differently. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
  private @Nullable ByteBuf cumulation;
  /** Bytes that followed a 101 response: the tunnel's, handed over by {@link #takeLeftover}. */
  private @Nullable ByteBuf leftover;
  private State state = State.HEAD;
  private long remaining;
  /** Where the search for the end of an incomplete head or trailer block resumes, from the reader index. */
  private int scanned;
  private boolean reusable = true;
  private boolean chunkedRequest;
  private int headEstimate = 256;
  /** A 101 was read: what follows is the tunnel's. */
  private boolean upgraded;
  /** Interim responses to the request being answered. */
  private int interim;

  Http1ClientCodec(int maxFields) {
    this.maxFields = maxFields;
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
    writeText(out, req.method().asciiName());
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
    writeText(out, req.protocolVersion().text());
    out.writeShort(0x0d0a);
    writeFields(out, req.headers());
    // the next head is likely the size of this one: one allocation without growing
    headEstimate = Math.max(128, (headEstimate + out.readableBytes() + 64) / 2);
    return out;
  }

  private static boolean needsRootPath(String uri) {
    int scheme = uri.indexOf("://");
    return scheme > 0 && uri.indexOf('/', scheme + 3) < 0 && uri.indexOf('?', scheme + 3) < 0;
  }

  /** Each field as {@code name: value CRLF}, then the blank line that ends the block. */
  private static void writeFields(ByteBuf out, HttpHeaders fields) {
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = fields.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      writeText(out, e.getKey());
      out.writeShort(0x3a20); // ": "
      writeText(out, e.getValue());
      out.writeShort(0x0d0a);
    }
    out.writeShort(0x0d0a);
  }

  private static void writeText(ByteBuf out, CharSequence s) {
    if (s instanceof AsciiString a) {
      out.writeBytes(a.array(), a.arrayOffset(), a.length());
    } else {
      ByteBufUtil.writeAscii(out, s);
    }
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
    int n = body.readableBytes();
    if (n > 0) {
      ByteBuf size = ctx.alloc().ioBuffer(10);
      writeHex(size, n);
      size.writeShort(0x0d0a);
      ctx.write(size, ctx.voidPromise());
      ctx.write(body, ctx.voidPromise());
      if (!last) {
        ctx.write(CRLF.duplicate(), promise);
        return;
      }
    } else {
      body.release();
      if (!last) {
        if (!promise.isVoid()) {
          ctx.write(Unpooled.EMPTY_BUFFER, promise);
        }
        return;
      }
    }
    HttpHeaders trailers = ((LastHttpContent) c).trailingHeaders();
    ByteBuf end = ctx.alloc().ioBuffer(trailers.isEmpty() ? 7 : 256);
    if (n > 0) {
      end.writeShort(0x0d0a);
    }
    end.writeByte('0').writeShort(0x0d0a);
    writeFields(end, trailers);
    ctx.write(end, promise);
  }

  private static void writeHex(ByteBuf out, int n) {
    int shift = 28;
    while (shift > 0 && (n >>> shift) == 0) {
      shift -= 4;
    }
    for (; shift >= 0; shift -= 4) {
      out.writeByte(HEX[(n >>> shift) & 0xf]);
    }
  }

  // ------------------------------------------------------------------ responses

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    cumulation = cumulation == null ? in : append(ctx, cumulation, in);
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
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
    if (leftover != null) {
      leftover.release();
      leftover = null;
    }
  }

  private static ByteBuf append(ChannelHandlerContext ctx, ByteBuf cum, ByteBuf in) {
    int need = in.readableBytes();
    if (cum.refCnt() == 1 && !cum.isReadOnly() && cum.writableBytes() >= need) {
      cum.writeBytes(in);
      in.release();
      return cum;
    }
    ByteBuf merged = ctx.alloc().ioBuffer(cum.readableBytes() + need);
    merged.writeBytes(cum).writeBytes(in);
    cum.release();
    in.release();
    return merged;
  }

  /**
   * Decodes what {@link #cumulation} holds, firing each message as it is complete; what must wait for more bytes
   * stays there. A body that is the rest of the buffer is handed on as the buffer itself.
   */
  private void decode(ChannelHandlerContext ctx) {
    ByteBuf buf;
    while ((buf = cumulation) != null) {
      if (!buf.isReadable()) {
        cumulation = null;
        buf.release();
        return;
      }
      switch (state) {
        case HEAD -> {
          while (scanned == 0 && buf.readableBytes() >= 2 && buf.getShort(buf.readerIndex()) == 0x0d0a) {
            buf.skipBytes(2); // stray CRLF between responses, as RFC 9112 §2.2 lets a recipient ignore
          }
          int end = completeBlock(ctx, buf, true, "response head");
          if (end < 0) {
            return;
          }
          byte[] head = new byte[end];
          buf.readBytes(head);
          String problem = onHead(ctx, head);
          if (problem != null) {
            fail(ctx, problem);
            return;
          }
        }
        case FIXED, CHUNK_DATA, UNTIL_CLOSE -> {
          int n = buf.readableBytes();
          if (state == State.UNTIL_CLOSE || n < remaining) {
            remaining -= n;
            cumulation = null;
            ctx.fireChannelRead(new DefaultHttpContent(buf)); // the rest of this read is all body: no slice
            return;
          }
          int k = (int) remaining;
          ByteBuf part;
          if (n == k) {
            part = buf;
            cumulation = null;
          } else {
            part = buf.readRetainedSlice(k);
          }
          remaining = 0;
          if (state == State.FIXED) {
            state = State.HEAD;
            ctx.fireChannelRead(new DefaultLastHttpContent(part, NO_TRAILERS));
          } else {
            state = State.CHUNK_END;
            ctx.fireChannelRead(new DefaultHttpContent(part));
          }
        }
        case CHUNK_SIZE -> {
          int lf = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) '\n');
          if (lf < 0) {
            waitForMore(ctx, buf, MAX_CHUNK_LINE, "chunk size line longer than 4096 bytes");
            return;
          }
          long size = chunkSize(buf, buf.readerIndex(), lf);
          if (size < 0) {
            fail(ctx, "malformed chunk size line");
            return;
          }
          buf.readerIndex(lf + 1);
          remaining = size;
          state = size == 0 ? State.TRAILERS : State.CHUNK_DATA;
        }
        case CHUNK_END -> {
          if (buf.getByte(buf.readerIndex()) != '\r'
              || (buf.readableBytes() >= 2 && buf.getByte(buf.readerIndex() + 1) != '\n')) {
            fail(ctx, "chunk data not followed by CRLF");
            return;
          }
          if (buf.readableBytes() < 2) {
            return;
          }
          buf.skipBytes(2);
          state = State.CHUNK_SIZE;
        }
        case TRAILERS -> {
          int end = completeBlock(ctx, buf, false, "trailers");
          if (end < 0) {
            return;
          }
          LastHttpContent last;
          if (end == 2) {
            buf.skipBytes(2);
            last = LastHttpContent.EMPTY_LAST_CONTENT;
          } else {
            byte[] block = new byte[end];
            buf.readBytes(block);
            HttpHeaders trailers = TRAILERS.newHeaders();
            String problem = parseFields(block, 0, trailers, null, maxFields);
            if (problem != null) {
              fail(ctx, problem);
              return;
            }
            last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, trailers);
          }
          state = State.HEAD;
          ctx.fireChannelRead(last);
        }
        case DONE, FAILED -> {
          // after a tunnelled CONNECT, a 101 the handler kept, or a failure: the bytes belong to no response
          cumulation = null;
          buf.release();
          return;
        }
        default -> throw new IllegalStateException(state.name());
      }
      if (ctx.isRemoved()) {
        return; // handlerRemoved kept what is left for the tunnel
      }
    }
  }

  /**
   * The length of the complete head or trailer block at the reader index; -1 while it is incomplete (it waits) or
   * when it was refused (bare LF, over {@link #MAX_HEAD_BYTES}).
   */
  private int completeBlock(ChannelHandlerContext ctx, ByteBuf buf, boolean head, String what) {
    int end = blockEnd(buf, head);
    if (end == -1) {
      waitForMore(ctx, buf, MAX_HEAD_BYTES, what + " larger than 69632 bytes");
      return -1;
    }
    if (end < 0) {
      fail(ctx, "bare LF in the " + what);
      return -1;
    }
    if (end > MAX_HEAD_BYTES) {
      fail(ctx, what + " larger than 69632 bytes");
      return -1;
    }
    return end;
  }

  private void waitForMore(ChannelHandlerContext ctx, ByteBuf buf, int limit, String tooLarge) {
    if (buf.readableBytes() > limit) {
      fail(ctx, tooLarge);
    }
  }

  private void fail(ChannelHandlerContext ctx, String reason) {
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
    state = State.FAILED;
    reusable = false;
    scanned = 0;
    DefaultLastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    failed.setDecoderResult(DecoderResult.failure(new InvalidResponse(reason)));
    ctx.fireChannelRead(failed);
  }

  /**
   * The length of the block (head or trailers) from the reader index through its empty line, -1 while incomplete,
   * -2 on a bare LF. Lines already scanned are not scanned again when more bytes arrive.
   */
  private int blockEnd(ByteBuf buf, boolean head) {
    int base = buf.readerIndex();
    int lineStart = base + scanned;
    int limit = buf.writerIndex();
    while (true) {
      int lf = buf.indexOf(lineStart, limit, (byte) '\n');
      if (lf < 0) {
        scanned = lineStart - base;
        return -1;
      }
      if (lf == base || buf.getByte(lf - 1) != '\r') {
        scanned = 0;
        return -2;
      }
      if (lf - 1 == lineStart && (lineStart > base || !head)) {
        scanned = 0;
        return lf + 1 - base;
      }
      lineStart = lf + 1;
    }
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
      if (!fieldByte(h[i])) {
        return "control character in the response reason phrase";
      }
    }
    HttpVersion version = h[7] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
    HttpResponseStatus status = status(code, h, eol);
    HttpHeaders headers = HEADERS.newHeaders();
    framing.reset();
    String problem = parseFields(h, eol + 2, headers, framing, maxFields);
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
      if (endsWithChunked(framing.transferEncoding)) {
        state = State.CHUNK_SIZE;
        if (version == HttpVersion.HTTP_1_0) {
          reusable = false;
        }
      } else {
        state = State.UNTIL_CLOSE;
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

  /** What a head says about its body's length; one per codec, reset for each head. */
  private static final class Framing {
    int contentLengths;
    long contentLength;
    @Nullable AsciiString transferEncoding;

    void reset() {
      contentLengths = 0;
      contentLength = -1;
      transferEncoding = null;
    }
  }

  private final Framing framing = new Framing();

  /**
   * Parses header lines from {@code from} up to the block's empty line into {@code into}; the names and values share
   * the block's array. Content-Length and Transfer-Encoding are noted in {@code framing} when it is given.
   */
  private static @Nullable String parseFields(byte[] h, int from, HttpHeaders into, @Nullable Framing framing,
      int maxFields) {
    int line = from;
    for (int fields = 0; ; fields++) {
      // one pass per line: the name's tchars to the colon, whitespace, the value's bytes to CR; the block ends in
      // CRLFCRLF, so every scan stops inside the array
      byte first = h[line];
      if (first == '\r') {
        return h[line + 1] == '\n' ? null : "bare CR in a header line"; // the empty line ends the block
      }
      if (first == ' ' || first == '\t') {
        return "obs-fold (a header line starting with whitespace)";
      }
      if (fields == maxFields) {
        return "more than " + maxFields + " header fields (max_headers_count)";
      }
      int colon = line;
      while (TCHAR[h[colon] & 0xff]) {
        colon++;
      }
      byte stop = h[colon];
      if (stop != ':' || colon == line) {
        return stop == ' ' || stop == '\t' ? "whitespace before a header's colon"
            : stop == '\r' ? "header line without a colon" : "header name is not a token";
      }
      int v = colon + 1;
      while (h[v] == ' ' || h[v] == '\t') {
        v++;
      }
      int ve = v; // one past the value's last byte that is not whitespace
      int eol = v;
      for (byte c; (c = h[eol]) != '\r'; eol++) {
        if (c != ' ' && c != '\t') {
          if (!fieldByte(c)) {
            return "control character in a header value";
          }
          ve = eol + 1;
        }
      }
      if (h[eol + 1] != '\n') {
        return "bare CR in a header line";
      }
      AsciiString name = new AsciiString(h, line, colon - line, false);
      AsciiString value = ve == v ? AsciiString.EMPTY_STRING : new AsciiString(h, v, ve - v, false);
      if (framing != null) {
        int nameLength = colon - line;
        if (nameLength == 14 && name.contentEqualsIgnoreCase(HttpHeaderNames.CONTENT_LENGTH)) {
          framing.contentLengths += countCommaList(h, v, ve);
          framing.contentLength = parseLength(h, v, ve);
        } else if (nameLength == 17 && name.contentEqualsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING)) {
          framing.transferEncoding = value; // the last field line's final coding decides
        }
      }
      into.add(name, value);
      line = eol + 2;
    }
  }

  private static int countCommaList(byte[] h, int from, int to) {
    int n = 1;
    for (int i = from; i < to; i++) {
      if (h[i] == ',') {
        n++;
      }
    }
    return n;
  }

  private static long parseLength(byte[] h, int from, int to) {
    if (from == to || to - from > 18) {
      return -1;
    }
    long n = 0;
    for (int i = from; i < to; i++) {
      int d = h[i] - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      n = n * 10 + d;
    }
    return n;
  }

  private static boolean endsWithChunked(AsciiString te) {
    int end = te.length();
    int comma = te.lastIndexOf(",");
    int start = comma + 1;
    while (start < end && (te.byteAt(start) == ' ' || te.byteAt(start) == '\t')) {
      start++;
    }
    return end - start == 7 && te.subSequence(start, end, false).contentEqualsIgnoreCase(
        HttpHeaderValues.CHUNKED);
  }

  /** A chunk size line's size (hex, then optional whitespace and extensions), or -1 when it is malformed. */
  private static long chunkSize(ByteBuf b, int from, int lf) {
    int end = lf - 1;
    if (end < from || b.getByte(end) != '\r') {
      return -1;
    }
    long size = 0;
    int i = from;
    for (; i < end; i++) {
      int d = hexDigit(b.getByte(i));
      if (d < 0) {
        break;
      }
      if (i - from >= 15) {
        return -1;
      }
      size = size << 4 | d;
    }
    if (i == from) {
      return -1;
    }
    int digits = i;
    while (i < end && (b.getByte(i) == ' ' || b.getByte(i) == '\t')) {
      i++;
    }
    if (i < end ? b.getByte(i) != ';' : i != digits) {
      return -1; // whitespace after the size only before an extension (BWS ";"), as Netty's decoder had it
    }
    for (; i < end; i++) {
      byte c = b.getByte(i);
      if (!fieldByte(c)) {
        return -1;
      }
    }
    return size;
  }

  private static int hexDigit(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
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

  /** A byte allowed in a field value or reason phrase: HTAB, SP, VCHAR, obs-text. */
  private static boolean fieldByte(byte c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f) || c < 0;
  }

  private static int indexOf(byte[] h, int from, char c) {
    for (int i = from; i < h.length; i++) {
      if (h[i] == c) {
        return i;
      }
    }
    return h.length;
  }

  /** RFC 9110 tchar. */
  private static final boolean[] TCHAR = new boolean[256];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
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
