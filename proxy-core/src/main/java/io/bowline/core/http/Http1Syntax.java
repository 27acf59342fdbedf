package io.bowline.core.http;

import io.bowline.core.filter.ArrayHttpHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * RFC 9112's message syntax as both of bowline's HTTP/1.1 codecs read and write it (requests from downstream,
 * responses from upstream): header blocks parsed from one byte array into {@link AsciiString}s that share it and
 * validated in the same pass, chunk size lines, and the encoding of header fields and chunk sizes.
 */
public final class Http1Syntax {
  private Http1Syntax() {}

  /**
   * The trailers of a body that ended by its length, which has none: no header map per message (Netty's made an
   * empty one, 166 bytes). Nothing in the engine adds trailers to a message it received.
   */
  public static final HttpHeadersFactory NO_TRAILERS = new HttpHeadersFactory() {
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

  /**
   * Per byte: its lower-case form when it is an RFC 9110 tchar, else 0. A header name is checked and folded with one
   * lookup per byte, no branch on its case.
   */
  private static final byte[] NAME_BYTE = new byte[256];
  /** Per byte: whether a field value may hold it (HTAB, SP, VCHAR, obs-text); CR and the other controls stop a scan. */
  private static final boolean[] VALUE_BYTE = new boolean[256];

  static {
    for (char c = '0'; c <= '9'; c++) {
      NAME_BYTE[c] = (byte) c;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      NAME_BYTE[c] = (byte) c;
      NAME_BYTE[c - 32] = (byte) c;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      NAME_BYTE[c] = (byte) c;
    }
    for (int c = 0; c < 256; c++) {
      VALUE_BYTE[c] = fieldByte((byte) c);
    }
  }

  public static boolean tchar(byte c) {
    return NAME_BYTE[c & 0xff] != 0;
  }

  /** A byte allowed in a field value or reason phrase: HTAB, SP, VCHAR, obs-text. */
  public static boolean fieldByte(byte c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f) || c < 0;
  }

  /** What a header block says about its body's length; one per codec, reset for each head. */
  public static final class Framing {
    public int contentLengths;
    public long contentLength;
    public @Nullable AsciiString transferEncoding;
    /** Transfer-Encoding field lines: codings may be split over several, and only the last line is kept above. */
    public int transferEncodingLines;

    public void reset() {
      contentLengths = 0;
      contentLength = -1;
      transferEncoding = null;
      transferEncodingLines = 0;
    }

    /** Whether the block's Transfer-Encoding is "chunked" and nothing else, across all its field lines. */
    public boolean onlyChunked() {
      return transferEncodingLines == 1 && transferEncoding != null && endsWithChunked(transferEncoding)
          && !transferEncoding.contains(",");
    }
  }

  /**
   * Finds where a header (or trailer) block ends as its bytes arrive; lines already scanned are not scanned again
   * when more bytes come. One per codec.
   */
  public static final class BlockScanner {
    /** Where the search for the end of an incomplete block resumes, from the reader index. */
    private int scanned;

    /**
     * The length of the block from the reader index through its empty line, -1 while incomplete, -2 on a bare LF.
     * A head block ({@code head}) has a start line first, so its first line is never the empty one.
     */
    public int end(ByteBuf buf, boolean head) {
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

    public void reset() {
      scanned = 0;
    }

    /** True while part of a block has been scanned: a stray CRLF is then the block's, not one to skip. */
    public boolean started() {
      return scanned != 0;
    }
  }

  /**
   * Parses header lines from {@code from} up to the block's empty line into {@code into}; the names and values share
   * the block's array. Content-Length and Transfer-Encoding are noted in {@code framing} when it is given. Returns
   * why the block was refused, or null. More than {@code maxFields} fields is refused with {@link #TOO_MANY_FIELDS}
   * leading the reason.
   */
  public static @Nullable String parseFields(byte[] h, int from, ArrayHttpHeaders into, @Nullable Framing framing,
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
        return TOO_MANY_FIELDS + maxFields + " header fields (max_headers_count)";
      }
      // names are lower-cased in place as Envoy's HTTP/1 codecs do (RFC 9110 §5.1: case-insensitive), and a common
      // one becomes the shared constant, which header lookups match by identity
      int colon = line;
      for (byte lower; (lower = NAME_BYTE[h[colon] & 0xff]) != 0; colon++) {
        h[colon] = lower;
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
      int eol = v;
      // eight bytes at a time while none is a control byte (CR included), then byte by byte to the CR
      int wide = h.length - Long.BYTES;
      while (eol <= wide && plainText((long) LONG_LE.get(h, eol))) {
        eol += Long.BYTES;
      }
      while (VALUE_BYTE[h[eol] & 0xff]) {
        eol++;
      }
      if (h[eol] != '\r') {
        return "control character in a header value";
      }
      if (h[eol + 1] != '\n') {
        return "bare CR in a header line";
      }
      int ve = eol; // one past the value's last byte that is not whitespace
      while (ve > v && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) {
        ve--;
      }
      AsciiString name = knownName(h, line, colon - line);
      if (name == null) {
        name = new AsciiString(h, line, colon - line, false);
      }
      AsciiString value = ve == v ? AsciiString.EMPTY_STRING : new AsciiString(h, v, ve - v, false);
      if (framing != null) {
        if (name == HttpHeaderNames.CONTENT_LENGTH) { // names are interned: every Content-Length is this one
          framing.contentLengths += countCommaList(h, v, ve);
          framing.contentLength = parseLength(h, v, ve);
        } else if (name == HttpHeaderNames.TRANSFER_ENCODING) {
          framing.transferEncoding = value; // the last field line's final coding decides
          framing.transferEncodingLines++;
        }
      }
      into.addParsed(name, value);
      line = eol + 2;
    }
  }

  /**
   * Header names common in requests and responses, placed by {@link #nameKey} (a lower-case name's first four bytes,
   * last byte and length: no per-byte hashing while the name is scanned), open addressing with linear probing in a
   * table of 128 slots under half full. A lookup reads only the table's own arrays — each slot's length and its
   * name's bytes at {@code slot * 32} of one array — and not the constants and their arrays, which live anywhere in the
   * heap and were a cache miss per header line in the request path's profile.
   */
  private static final AsciiString[] KNOWN_NAMES = {HttpHeaderNames.HOST, HttpHeaderNames.USER_AGENT,
      HttpHeaderNames.ACCEPT, HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.ACCEPT_LANGUAGE,
      HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONNECTION,
      HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.DATE, HttpHeaderNames.SERVER, HttpHeaderNames.CACHE_CONTROL,
      HttpHeaderNames.COOKIE, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.EXPECT,
      HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.TE, HttpHeaderNames.UPGRADE, HttpHeaderNames.ORIGIN,
      HttpHeaderNames.REFERER, HttpHeaderNames.ETAG, HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.LOCATION,
      HttpHeaderNames.EXPIRES, HttpHeaderNames.VARY, HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.ACCEPT_RANGES,
      HttpHeaderNames.IF_NONE_MATCH, HttpHeaderNames.IF_MODIFIED_SINCE, HttpHeaderNames.TRAILER,
      ProxyHeaders.X_FORWARDED_FOR, ProxyHeaders.X_FORWARDED_PROTO, ProxyHeaders.X_REQUEST_ID,
      ProxyHeaders.X_ENVOY_UPSTREAM_SERVICE_TIME, AsciiString.cached("traceparent"),
      AsciiString.cached("tracestate"), AsciiString.cached("grpc-status"), AsciiString.cached("grpc-message"),
      AsciiString.cached("x-envoy-peer-metadata"), AsciiString.cached("x-envoy-peer-metadata-id")};

  private static final int SLOTS = 128;
  private static final int SLOT_BYTES = 32;
  private static final AsciiString[] SLOT_NAMES = new AsciiString[SLOTS];
  private static final int[] SLOT_LENGTHS = new int[SLOTS];
  private static final byte[] SLOT_BYTES_ALL = new byte[SLOTS * SLOT_BYTES];

  static {
    for (AsciiString n : KNOWN_NAMES) {
      int head = 0;
      for (int i = Math.min(4, n.length()) - 1; i >= 0; i--) {
        head = head << 8 | n.byteAt(i) & 0xff;
      }
      int slot = slot(nameKey(head, n.byteAt(n.length() - 1), n.length()));
      while (SLOT_NAMES[slot] != null) {
        slot = (slot + 1) & (SLOTS - 1);
      }
      if (n.length() > SLOT_BYTES) {
        throw new IllegalStateException("a known header name longer than " + SLOT_BYTES + " bytes: " + n);
      }
      SLOT_NAMES[slot] = n;
      SLOT_LENGTHS[slot] = n.length();
      n.copy(0, SLOT_BYTES_ALL, slot * SLOT_BYTES, n.length());
    }
  }

  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGH_BITS = 0x8080808080808080L;

  /**
   * Whether none of eight bytes is below 0x20 or 0x7f (DEL): no control byte, so each may stand in a field value
   * (bytes from 0x80 up, obs-text, may). Exact for the word as a whole; HTAB is a control byte here and takes the
   * byte-by-byte path.
   */
  private static boolean plainText(long w) {
    long below = (w - 0x20 * ONES) & ~w & HIGH_BITS; // a byte < 0x20 (the high bit excludes bytes >= 0x80)
    long del = w ^ 0x7f * ONES;
    return (below | ((del - ONES) & ~del & HIGH_BITS)) == 0;
  }

  private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  /** {@code head}: the name's first four bytes, little-endian, zero beyond a shorter name's end. */
  private static int nameKey(int head, byte last, int length) {
    return head * 31 + ((last & 0xff) << 8 | length);
  }

  private static int slot(int key) {
    return (key * 0x9E3779B9) >>> 25; // the top 7 bits of a Fibonacci hash: 128 slots
  }

  /**
   * The shared constant for the lower-case name at {@code h[from, from + length)}, or null. The name is followed by at
   * least a colon and two CRLFs, so its first four bytes can be read whole.
   */
  private static @Nullable AsciiString knownName(byte[] h, int from, int length) {
    int head = (int) INT_LE.get(h, from);
    if (length < 4) {
      head &= (1 << (length << 3)) - 1;
    }
    for (int slot = slot(nameKey(head, h[from + length - 1], length)); ; slot = (slot + 1) & (SLOTS - 1)) {
      int known = SLOT_LENGTHS[slot];
      if (known == 0) {
        return null;
      }
      int at = slot * SLOT_BYTES;
      if (known == length && Arrays.equals(SLOT_BYTES_ALL, at, at + length, h, from, from + length)) {
        return SLOT_NAMES[slot];
      }
    }
  }

  /** How {@link #parseFields} starts the reason when a block has more fields than allowed. */
  public static final String TOO_MANY_FIELDS = "more than ";

  private static int countCommaList(byte[] h, int from, int to) {
    int n = 1;
    for (int i = from; i < to; i++) {
      if (h[i] == ',') {
        n++;
      }
    }
    return n;
  }

  /** A Content-Length value of 1 to 18 digits, or -1. */
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

  /** Whether a Transfer-Encoding value's final coding is chunked. */
  public static boolean endsWithChunked(AsciiString te) {
    int end = te.length();
    while (end > 0 && (te.byteAt(end - 1) == ' ' || te.byteAt(end - 1) == '\t')) {
      end--;
    }
    int comma = te.lastIndexOf(",");
    int start = comma + 1;
    while (start < end && (te.byteAt(start) == ' ' || te.byteAt(start) == '\t')) {
      start++;
    }
    return end - start == 7 && te.subSequence(start, end, false).contentEqualsIgnoreCase(
        HttpHeaderValues.CHUNKED);
  }

  /** A chunk size line's size (hex, then optional whitespace and extensions), or -1 when it is malformed. */
  public static long chunkSize(ByteBuf b, int from, int lf) {
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

  /** A chunk size in lower-case hex, without leading zeros. */
  public static void writeHex(ByteBuf out, int n) {
    int shift = 28;
    while (shift > 0 && (n >>> shift) == 0) {
      shift -= 4;
    }
    for (; shift >= 0; shift -= 4) {
      out.writeByte(HEX[(n >>> shift) & 0xf]);
    }
  }

  /**
   * One piece of a chunked body: its size line, its bytes and their CRLF; the end of the body ({@link LastHttpContent})
   * also writes the last chunk and, when {@code trailers}, its trailer fields. An empty piece that is not the end
   * writes nothing (an empty chunk would end the body). {@code promise} completes with the last buffer written.
   */
  public static void writeChunked(ChannelHandlerContext ctx, HttpContent c, ChannelPromise promise,
      boolean trailers) {
    ByteBuf body = c.content();
    boolean last = c instanceof LastHttpContent;
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
    HttpHeaders fields = trailers ? ((LastHttpContent) c).trailingHeaders() : EmptyHttpHeaders.INSTANCE;
    ByteBuf end = ctx.alloc().ioBuffer(fields.isEmpty() ? 7 : 256);
    if (n > 0) {
      end.writeShort(0x0d0a);
    }
    end.writeByte('0').writeShort(0x0d0a);
    writeFields(end, fields);
    ctx.write(end, promise);
  }

  /** Each field as {@code name: value CRLF}, then the blank line that ends the block. */
  public static void writeFields(ByteBuf out, HttpHeaders fields) {
    if (fields instanceof ArrayHttpHeaders a) { // the codecs' own map: by index, no iterator or entry objects
      for (int i = 0, n = a.size(); i < n; i++) {
        writeField(out, a.nameAt(i), a.valueAt(i));
      }
    } else {
      for (Iterator<Map.Entry<CharSequence, CharSequence>> it = fields.iteratorCharSequence(); it.hasNext(); ) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        writeField(out, e.getKey(), e.getValue());
      }
    }
    out.writeShort(0x0d0a);
  }

  private static void writeField(ByteBuf out, CharSequence name, CharSequence value) {
    writeText(out, name);
    out.writeShort(0x3a20); // ": "
    writeText(out, value);
    out.writeShort(0x0d0a);
  }

  /**
   * {@code HttpUtil.isKeepAlive}'s answer without its garbage (Netty trims each Connection value into a new
   * AsciiString when the value shares a larger array, as every parsed one does): not when an option is {@code close};
   * otherwise yes for HTTP/1.1, and for HTTP/1.0 only with a {@code keep-alive} option. Options are comma-separated,
   * compared without case, trimmed of bytes up to the space as Netty trims them.
   */
  public static boolean keepAlive(io.netty.handler.codec.http.HttpMessage m) {
    boolean keep = false;
    for (Iterator<? extends CharSequence> it = m.headers().valueCharSequenceIterator(HttpHeaderNames.CONNECTION);
        it.hasNext(); ) {
      CharSequence v = it.next();
      int n = v.length();
      for (int from = 0; from <= n; ) {
        int comma = from;
        while (comma < n && v.charAt(comma) != ',') {
          comma++;
        }
        int start = from;
        int end = comma;
        while (start < end && v.charAt(start) <= ' ') {
          start++;
        }
        while (end > start && v.charAt(end - 1) <= ' ') {
          end--;
        }
        if (option(v, start, end, HttpHeaderValues.CLOSE)) {
          return false;
        }
        keep |= option(v, start, end, HttpHeaderValues.KEEP_ALIVE);
        from = comma + 1;
      }
    }
    return keep || m.protocolVersion().isKeepAliveDefault();
  }

  private static boolean option(CharSequence v, int start, int end, AsciiString option) {
    return end - start == option.length() && AsciiString.regionMatches(v, true, start, option, 0, option.length());
  }

  /** Text as its bytes: an {@link AsciiString} by bulk copy, anything else one byte per char as Netty wrote it. */
  public static void writeText(ByteBuf out, CharSequence s) {
    if (s instanceof AsciiString a) {
      out.writeBytes(a.array(), a.arrayOffset(), a.length());
    } else {
      ByteBufUtil.writeAscii(out, s);
    }
  }
}
