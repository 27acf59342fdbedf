package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.filter.ArrayHttpHeaders;
import io.bowline.core.listener.ConnectionTracker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/2 side of the connection manager: Netty's connection handler (codec, flow control, Netty's flood caps,
 * GOAWAY drain) with this class as its frame listener, so each stream is a plain object — no child channel, no
 * per-stream pipeline — whose request is handed to an {@link HttpStream} and whose response is written straight
 * through the encoder. Also: the HCM's settings, idle timeout, max connection duration, the per-stream idle sweep.
 */
public final class Http2ServerConnection extends Http2ConnectionHandler implements Http2FrameListener {
  private static final org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger(Http2ServerConnection.class);
  private static final AsciiString COOKIE = AsciiString.cached("cookie");

  private final HttpConnectionContext conn;
  private final ConnectionTracker tracker;
  private final Http2Connection.PropertyKey key;
  /** The open streams of this connection, swept once a second for their idle limit. */
  private final Set<Stream> streams = new HashSet<>();
  /** Streams that took request bytes in this read burst: their upstreams are flushed when it ends. */
  private final List<Stream> touched = new ArrayList<>(4);
  private final long createdNanos = System.nanoTime();
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ScheduledFuture<?> timer;
  private long idleSinceNanos = System.nanoTime();

  private Http2ServerConnection(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
      Http2Settings settings, HttpConnectionContext conn, ConnectionTracker tracker) {
    super(decoder, encoder, settings);
    this.conn = conn;
    this.tracker = tracker;
    this.key = connection().newKey();
    decoder.frameListener(this);
    connection().addListener(new Http2ConnectionAdapter() {
      @Override
      public void onStreamClosed(Http2Stream stream) {
        Stream s = stream.getProperty(key);
        if (s != null) {
          s.closed();
        }
      }
    });
    encoder.flowController().listener(stream -> {
      Stream s = stream.getProperty(key);
      if (s != null) {
        s.updateWritability();
      }
    });
  }

  /** The connection handler configured from the HCM: settings, header limits, flood caps. */
  public static Http2ServerConnection create(HttpConnectionContext conn, ConnectionTracker tracker,
      long drainTimeoutMs) {
    return new Builder(conn, tracker).configured(drainTimeoutMs);
  }

  /** Installs the connection handler at the end of {@code p}, behind a flush consolidation. */
  public static void install(ChannelPipeline p, HttpConnectionContext conn, ConnectionTracker tracker,
      long drainTimeoutMs) {
    // responses of many streams finish in one event-loop turn (each on its own upstream read): one write for all
    p.addLast(new io.netty.handler.flush.FlushConsolidationHandler(256, true));
    p.addLast(create(conn, tracker, drainTimeoutMs));
  }

  private static final class Builder
      extends AbstractHttp2ConnectionHandlerBuilder<Http2ServerConnection, Builder> {
    private final HttpConnectionContext conn;
    private final ConnectionTracker tracker;

    Builder(HttpConnectionContext conn, ConnectionTracker tracker) {
      this.conn = conn;
      this.tracker = tracker;
    }

    /** Netty's knobs (protected in its builder) set from the HCM. */
    Http2ServerConnection configured(long drainTimeoutMs) {
      HcmConfig hcm = conn.hcm();
      HcmConfig.Http2Settings s = hcm.http2();
      Http2Settings settings = Http2Settings.defaultSettings()
          .maxConcurrentStreams(s.maxConcurrentStreams())
          .initialWindowSize(s.initialStreamWindowSize())
          .maxHeaderListSize(hcm.maxRequestHeadersBytes());
      // RFC 9113 deprecates stream priorities and Envoy ignores them: bytes are shared round-robin among the streams
      // that have some (Netty's default weighted-fair distributor keeps a priority tree, ~2 µs per h2c request here)
      io.netty.handler.codec.http2.DefaultHttp2Connection connection =
          new io.netty.handler.codec.http2.DefaultHttp2Connection(true);
      connection.remote().flowController(new io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController(
          connection, new io.netty.handler.codec.http2.UniformStreamByteDistributor(connection)));
      return initialSettings(settings)
          .connection(connection) // a server's (in place of .server(true), which Netty refuses beside it)
          .validateHeaders(true)
          .encoderEnforceMaxQueuedControlFrames(1000)
          .decoderEnforceMaxConsecutiveEmptyDataFrames(1)
          .decoderEnforceMaxRstFramesPerWindow(500, 1)
          .encoderEnforceMaxRstFramesPerWindow(500, 1) // MadeYouReset: resets the client provokes count too
          .frameLogger(new Http2FloodGuard(hcm.stats().http2PriorityFlood, hcm.stats().http2WindowUpdateFlood))
          .gracefulShutdownTimeoutMillis(drainTimeoutMs)
          .autoAckPingFrame(true)
          .build();
    }

    @Override
    protected Http2ServerConnection build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
        Http2Settings initialSettings) {
      return new Http2ServerConnection(decoder, encoder, initialSettings, conn, tracker);
    }
  }

  // ------------------------------------------------------------ connection lifecycle

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    this.ctx = ctx;
    HcmConfig hcm = conn.hcm();
    hcm.stats().connectionOpened(true, conn.tls());
    Channel ch = ctx.channel();
    tracker.register(ch, closeIdle -> {
      hcm.stats().cxDrainClose.inc();
      ch.close(); // Http2ConnectionHandler.close: GOAWAY, wait for open streams, then close
    });
    int connWindow = hcm.http2().initialConnectionWindowSize();
    try {
      var local = connection().local();
      int current = local.flowController().initialWindowSize(connection().connectionStream());
      if (connWindow > current) {
        local.flowController().incrementWindowSize(connection().connectionStream(), connWindow - current);
      }
    } catch (Http2Exception e) {
      ctx.close();
    }
    timer = ch.eventLoop().scheduleAtFixedRate(this::checkIdle, 1, 1, TimeUnit.SECONDS);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    conn.hcm().stats().connectionClosed(true, conn.tls(), System.nanoTime() - createdNanos,
        connection().numActiveStreams() > 0);
    if (timer != null) {
      timer.cancel(false);
    }
    super.handlerRemoved0(ctx);
  }

  private void checkIdle() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    HcmConfig hcm = conn.hcm();
    long now = System.nanoTime();
    if (!streams.isEmpty()) { // each stream's limit: its route's idle_timeout, or the HCM's stream_idle_timeout
      for (Stream s : new ArrayList<>(streams)) {
        s.checkIdle(now);
      }
    }
    if (hcm.maxConnectionDurationMs() > 0 && (now - createdNanos) / 1_000_000 >= hcm.maxConnectionDurationMs()) {
      c.channel().close(); // max_connection_duration: GOAWAY, then close when the open streams finish
      return;
    }
    if (hcm.idleTimeoutMs() <= 0) {
      return;
    }
    if (connection().numActiveStreams() > 0) {
      idleSinceNanos = now;
      return;
    }
    if ((now - idleSinceNanos) / 1_000_000 >= hcm.idleTimeoutMs()) {
      hcm.stats().cxIdleTimeout.inc();
      c.channel().close(); // GOAWAY first, then close
    }
  }

  @Override
  protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
      Http2Exception http2Ex) {
    if (http2Ex == null && cause instanceof java.io.IOException) {
      clientGone(ctx, cause); // a frame could not be written: not a protocol error, and no GOAWAY to send
      return;
    }
    conn.hcm().stats().cxProtocolError.inc();
    logger.debug("[{}] HTTP/2 connection error: {}", ctx.channel().id(), cause.toString());
    super.onConnectionError(ctx, outbound, cause, http2Ex);
  }

  /**
   * A write the client is no longer there for (broken pipe, reset, a channel closed under the streams still
   * answering) fails into here: the connection is done, as for HTTP/1, and there is nobody to tell. HTTP/2 errors
   * keep Netty's handling (GOAWAY, RST_STREAM).
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    if (cause instanceof java.io.IOException && Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
      clientGone(ctx, cause);
      return;
    }
    super.exceptionCaught(ctx, cause);
  }

  private static void clientGone(ChannelHandlerContext ctx, Throwable cause) {
    logger.debug("[{}] downstream error: {}", ctx.channel().id(), cause.toString());
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    long outer = io.bowline.core.transport.LoopClock.enter(); // the frames of one read share one clock reading
    try {
      super.channelRead(ctx, msg);
    } finally {
      io.bowline.core.transport.LoopClock.exit(outer);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    for (int i = 0; i < touched.size(); i++) {
      Stream s = touched.get(i);
      s.touched = false;
      if (s.http != null && !s.http.isDone()) {
        s.http.onDownstreamReadComplete();
      }
    }
    touched.clear();
    super.channelReadComplete(ctx); // flushes what the streams wrote
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent upgrade) {
      // h2c by Upgrade: the HTTP/1.1 request that asked for it is stream 1's request, already complete
      Http2Stream h2 = connection().stream(1);
      if (h2 != null) {
        FullHttpRequest full = upgrade.upgradeRequest();
        Stream s = open(h2);
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, full.method(), full.uri(), full.headers());
        boolean bodyless = !full.content().isReadable() && full.trailingHeaders().isEmpty();
        s.http.onRequestHeaders(head, bodyless);
        s.http.onRequestContent(new DefaultLastHttpContent(full.content().retain(), full.trailingHeaders()));
      }
    }
    super.userEventTriggered(ctx, evt);
  }

  // ------------------------------------------------------------ frames in

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
      boolean endOfStream) throws Http2Exception {
    try {
      headersRead(streamId, headers, endOfStream);
    } catch (RuntimeException e) {
      throw streamFailure(streamId, e);
    }
  }

  /**
   * A bug met while handling one stream ends that stream (RST_STREAM INTERNAL_ERROR), not the connection and the
   * other streams on it.
   */
  private static Http2Exception streamFailure(int streamId, RuntimeException e) {
    logger.warn("stream {}: unexpected error, resetting it", streamId, e);
    return Http2Exception.streamError(streamId, Http2Error.INTERNAL_ERROR, e, "internal error");
  }

  private void headersRead(int streamId, Http2Headers headers, boolean endOfStream) throws Http2Exception {
    Http2Stream h2 = connection().stream(streamId);
    if (h2 == null) {
      return;
    }
    Stream s = h2.getProperty(key);
    if (s == null) {
      if (!validRequest(headers)) {
        // missing or malformed pseudo-headers: refused before any conversion, nothing goes upstream
        throw Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR, "malformed request pseudo-headers");
      }
      s = open(h2);
      s.touch(); // the read's end flushes what the stream sent upstream meanwhile
      s.http.onRequestHeaders(toRequest(headers), endOfStream);
      if (endOfStream) {
        s.http.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
      }
      return;
    }
    if (!endOfStream) {
      throw Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR, "second HEADERS without END_STREAM");
    }
    HttpHeaders trailers = new ArrayHttpHeaders();
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      if (e.getKey().length() > 0 && e.getKey().charAt(0) == ':') {
        throw Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR, "pseudo-header in trailers");
      }
      trailers.add(e.getKey(), e.getValue());
    }
    s.touch();
    s.http.onRequestContent(new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, trailers));
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
      short weight, boolean exclusive, int padding, boolean endOfStream) throws Http2Exception {
    onHeadersRead(ctx, streamId, headers, padding, endOfStream);
  }

  @Override
  public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream)
      throws Http2Exception {
    try {
      return dataRead(streamId, data, padding, endOfStream);
    } catch (RuntimeException e) {
      throw streamFailure(streamId, e);
    }
  }

  private int dataRead(int streamId, ByteBuf data, int padding, boolean endOfStream) {
    int n = data.readableBytes();
    Http2Stream h2 = connection().stream(streamId);
    Stream s = h2 == null ? null : h2.getProperty(key);
    if (s == null || s.http == null || s.http.isDone()) {
      return n + padding; // a stream already answered: its remaining body is dropped, the window returned
    }
    s.touch();
    s.http.onRequestContent(endOfStream ? new DefaultLastHttpContent(data.retain())
        : new DefaultHttpContent(data.retain()));
    if (s.readable) {
      return n + padding;
    }
    s.unconsumed += n; // the upstream is behind: the window opens again when it catches up (setReadable)
    return padding;
  }

  @Override
  public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
      boolean exclusive) {}

  @Override
  public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
    // the stream closes next; onStreamClosed tells its HttpStream
  }

  @Override
  public void onSettingsAckRead(ChannelHandlerContext ctx) {}

  @Override
  public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {}

  @Override
  public void onPingRead(ChannelHandlerContext ctx, long data) {}

  @Override
  public void onPingAckRead(ChannelHandlerContext ctx, long data) {}

  @Override
  public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers,
      int padding) {}

  @Override
  public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {}

  @Override
  public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {}

  @Override
  public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId,
      io.netty.handler.codec.http2.Http2Flags flags, ByteBuf payload) {}

  private Stream open(Http2Stream h2) {
    Stream s = new Stream(h2);
    h2.setProperty(key, s);
    streams.add(s);
    s.http = new HttpStream(conn, s);
    return s;
  }

  /**
   * RFC 9113 §8.3.1: :method, :scheme and a non-empty :path (absolute, or "*" for OPTIONS) are required, except for
   * CONNECT, which has :authority and neither :scheme nor :path.
   */
  static boolean validRequest(Http2Headers h) {
    CharSequence method = h.method();
    if (method == null) {
      return false;
    }
    if ("CONNECT".contentEquals(method)) {
      return h.authority() != null && h.path() == null && h.scheme() == null;
    }
    CharSequence path = h.path();
    if (h.scheme() == null || path == null || path.length() == 0) {
      return false;
    }
    return path.charAt(0) == '/' || ("*".contentEquals(path) && "OPTIONS".contentEquals(method));
  }

  /**
   * The request as the connection manager sees every request: :authority becomes Host, cookie crumbs are joined with
   * "; " (RFC 9113 §8.2.3), the other pseudo-headers go; names are already lower case and validated by the codec.
   */
  static HttpRequest toRequest(Http2Headers h) {
    HttpHeaders out = new ArrayHttpHeaders();
    StringBuilder cookies = null;
    for (Map.Entry<CharSequence, CharSequence> e : h) {
      CharSequence name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue;
      }
      if (COOKIE.contentEquals(name)) {
        if (cookies == null) {
          cookies = new StringBuilder(e.getValue());
        } else {
          cookies.append("; ").append(e.getValue());
        }
        continue;
      }
      out.add(name, e.getValue());
    }
    if (cookies != null) {
      out.set(COOKIE, cookies.toString());
    }
    CharSequence authority = h.authority();
    if (authority != null) {
      out.set(HttpHeaderNames.HOST, authority);
    }
    String method = h.method().toString();
    String uri = "CONNECT".equals(method) ? authority.toString() : h.path().toString();
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri, out);
  }

  // ------------------------------------------------------------ one stream

  /** One downstream stream: where its HttpStream writes its response, and its request flow control. */
  private final class Stream implements DownstreamSink {
    private final Http2Stream h2;
    @Nullable HttpStream http;
    boolean readable = true;
    int unconsumed;
    /** The writability the HttpStream was last told: it pauses its upstream while the client's window is spent. */
    boolean writable = true;
    boolean touched;

    Stream(Http2Stream h2) {
      this.h2 = h2;
    }

    void touch() {
      if (!touched) {
        touched = true;
        Http2ServerConnection.this.touched.add(this);
      }
    }

    void updateWritability() {
      boolean now = isWritable();
      if (now != writable) {
        writable = now;
        if (http != null && !http.isDone()) {
          http.onDownstreamWritabilityChanged(now);
        }
      }
    }

    void closed() {
      streams.remove(this);
      if (http != null && !http.isDone()) {
        http.onDownstreamReset(); // a reset from the client, or the connection went away
      }
    }

    void checkIdle(long now) {
      HttpStream s = http;
      long idleMs = s == null ? 0 : s.streamIdleTimeoutMs();
      if (s != null && !s.isDone() && idleMs > 0 && (now - s.lastActivityNanos()) / 1_000_000 >= idleMs) {
        s.onStreamIdleTimeout();
      }
    }

    @Override
    public void write(HttpObject msg) {
      ChannelHandlerContext c = ctx;
      if (c == null || h2.state() == Http2Stream.State.CLOSED) {
        io.netty.util.ReferenceCountUtil.release(msg);
        return;
      }
      Http2ConnectionEncoder enc = encoder();
      if (msg instanceof HttpResponse r) {
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(r, false);
        if (msg instanceof FullHttpResponse full) {
          boolean bodyless = !full.content().isReadable();
          boolean end = bodyless && full.trailingHeaders().isEmpty();
          enc.writeHeaders(c, h2.id(), headers, 0, end, c.voidPromise());
          if (end) {
            full.release();
            return;
          }
          writeLast(c, enc, full.content(), full.trailingHeaders());
          return;
        }
        enc.writeHeaders(c, h2.id(), headers, 0, false, c.voidPromise());
        return;
      }
      if (msg instanceof LastHttpContent last) {
        writeLast(c, enc, last.content(), last.trailingHeaders());
        return;
      }
      if (msg instanceof HttpContent content) {
        enc.writeData(c, h2.id(), content.content(), 0, false, c.voidPromise());
        updateWritability();
        return;
      }
      io.netty.util.ReferenceCountUtil.release(msg);
    }

    /** The end of the response: the last bytes with END_STREAM, or the bytes then the trailers with it. */
    private void writeLast(ChannelHandlerContext c, Http2ConnectionEncoder enc, ByteBuf content,
        HttpHeaders trailers) {
      if (trailers.isEmpty()) {
        enc.writeData(c, h2.id(), content, 0, true, c.voidPromise());
        return;
      }
      if (content.isReadable()) {
        enc.writeData(c, h2.id(), content, 0, false, c.voidPromise());
        updateWritability();
      } else {
        content.release();
      }
      enc.writeHeaders(c, h2.id(), HttpConversionUtil.toHttp2Headers(trailers, false), 0, true, c.voidPromise());
    }

    @Override
    public void flush() {
      ChannelHandlerContext c = ctx;
      if (c != null) {
        Http2ServerConnection.this.flush(c); // writes what flow control let through, then flushes
      }
    }

    @Override
    public boolean isWritable() {
      return encoder().flowController().isWritable(h2);
    }

    @Override
    public void setReadable(boolean readable) {
      if (this.readable == readable) {
        return;
      }
      this.readable = readable;
      if (readable && unconsumed > 0 && h2.state() != Http2Stream.State.CLOSED) {
        int n = unconsumed;
        unconsumed = 0;
        try {
          decoder().flowController().consumeBytes(h2, n);
        } catch (Http2Exception e) {
          logger.debug("stream {}: cannot return {} bytes of window: {}", h2.id(), n, e.toString());
        }
        flush();
      }
    }

    @Override
    public void streamComplete(boolean requestComplete) {
      flush();
      streams.remove(this);
      if (!requestComplete && h2.state() != Http2Stream.State.CLOSED && ctx != null) {
        // the response ended before the request body: tell the client to stop sending (RST_STREAM NO_ERROR)
        resetStream(ctx, h2.id(), Http2Error.NO_ERROR.code(), ctx.newPromise());
        flush();
      }
    }

    @Override
    public void reset() {
      streams.remove(this);
      if (h2.state() != Http2Stream.State.CLOSED && ctx != null) {
        resetStream(ctx, h2.id(), Http2Error.CANCEL.code(), ctx.newPromise());
        flush();
      }
    }

    @Override
    public void switchToTunnel(Channel upstream) {
      upstream.close(); // extended CONNECT is not supported over HTTP/2 yet; the router never asks for it
    }

    @Override
    public boolean isHttp2() {
      return true;
    }

    @Override
    public boolean inReadBurst() {
      return touched; // channelReadComplete tells each stream the read touched
    }

    @Override
    public boolean isTls() {
      return conn.tls();
    }

    @Override
    public EventLoop eventLoop() {
      return ctx.channel().eventLoop();
    }
  }
}
