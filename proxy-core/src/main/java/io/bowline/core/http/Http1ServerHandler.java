package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.listener.ConnectionTracker;
import io.bowline.core.transport.LoopClock;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/1.1 side of the connection manager: validates each request's framing (RFC 9112), serves pipelined
 * requests one at a time in order, keeps the connection alive or closes it, enforces the HCM's connection
 * timeouts, and drains. A request it rejects is answered and the connection closed; nothing of it goes upstream,
 * and nothing after it on the connection is parsed.
 */
public final class Http1ServerHandler extends ChannelInboundHandlerAdapter implements DownstreamSink,
    io.bowline.core.transport.ByteMeter.ReadObserver {
  private static final Logger logger = LoggerFactory.getLogger(Http1ServerHandler.class);

  private final HttpConnectionContext conn;
  private final HcmConfig hcm;
  private final ConnectionTracker tracker;
  private ChannelHandlerContext ctx;
  private @Nullable HttpStream stream;
  /** Pipelined requests and their content waiting behind the current one; made on the first (few clients pipeline). */
  private @Nullable ArrayDeque<Object> queued;
  private boolean keepAlive = true;
  private boolean closing;
  private boolean draining;
  private boolean rejected;
  /** Between a read's first message and its end ({@link #inReadBurst}). */
  private boolean reading;
  private boolean headOrNoBody;
  private boolean requestInProgress;
  private @Nullable ScheduledFuture<?> timer;
  private long lastActivityNanos = LoopClock.nanoTime();
  private long headersStartNanos = LoopClock.nanoTime();
  private boolean headerBytesPending;
  private final long createdNanos = LoopClock.nanoTime();
  private boolean upgradeChecked;
  /** The connection left this handler alive: to HTTP/2 (h2c Upgrade) or to a tunnel (websocket). */
  private boolean handedOver;
  private HttpVersion requestVersion = HttpVersion.HTTP_1_1;

  public Http1ServerHandler(HttpConnectionContext conn, ConnectionTracker tracker) {
    this.conn = conn;
    this.hcm = conn.hcm();
    this.tracker = tracker;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    hcm.stats().connectionOpened(false, conn.tls());
    tracker.register(ctx.channel(), this::drain);
    scheduleTimer();
  }

  // ------------------------------------------------------------ inbound

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    if (rejected) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (stream != null && !stream.isDone()) {
      if (msg instanceof HttpRequest) {
        queue(msg); // pipelined: served after the current response
        return;
      }
      if (!noneQueued()) {
        queue(msg);
        return;
      }
      deliverContent(msg);
      return;
    }
    if (stream != null && !(msg instanceof HttpRequest) && noneQueued()) {
      deliverContent(msg); // the rest of a request whose response was already sent
      return;
    }
    if (!noneQueued()) {
      queue(msg);
      return;
    }
    handle(msg);
  }

  private boolean noneQueued() {
    return queued == null || queued.isEmpty();
  }

  /**
   * Holds a pipelined request (or its content) until the one before it has completed, and stops reading meanwhile,
   * as Envoy does: what waits is at most the rest of the read that brought it, never whatever a client that does
   * not read its responses keeps sending. {@link #streamComplete} reads on.
   */
  private void queue(Object msg) {
    if (queued == null) {
      queued = new ArrayDeque<>();
    }
    queued.add(msg);
    ctx.channel().config().setAutoRead(false);
  }

  private void handle(Object msg) {
    if (msg instanceof io.netty.handler.codec.http.FullHttpRequest full && full.decoderResult().isFailure()) {
      full.release(); // the decoder's stand-in for a request it could not parse
      protocolError(full.decoderResult().cause());
      return;
    }
    if (msg instanceof io.netty.handler.codec.http.FullHttpRequest full) {
      // aggregated by the h2c upgrade handler: split, so the stream sees headers and then the body's end
      onRequest(new io.netty.handler.codec.http.DefaultHttpRequest(full.protocolVersion(), full.method(),
          full.uri(), full.headers()));
      io.netty.handler.codec.http.DefaultLastHttpContent last =
          new io.netty.handler.codec.http.DefaultLastHttpContent(full.content(), full.trailingHeaders());
      if (rejected) {
        last.release();
      } else {
        deliverContent(last);
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      onRequest(req);
      return;
    }
    deliverContent(msg);
  }

  private void deliverContent(Object msg) {
    if (!(msg instanceof HttpContent c)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (c.decoderResult().isFailure()) {
      c.release();
      protocolError(c.decoderResult().cause());
      return;
    }
    if (c instanceof LastHttpContent) {
      requestInProgress = false;
    }
    HttpStream s = stream;
    if (s == null) {
      c.release();
      return;
    }
    s.onRequestContent(c);
  }

  /** Called by the connection's byte meter for every read: the start of a request's bytes starts its header timer. */
  @Override
  public void bytesArrived() {
    long now = LoopClock.nanoTime();
    lastActivityNanos = now;
    if (!headerBytesPending && !requestInProgress && (stream == null || stream.isDone()) && noneQueued()) {
      headerBytesPending = true;
      headersStartNanos = now;
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof io.netty.handler.codec.http.HttpServerUpgradeHandler.UpgradeEvent) {
      handedOver = true; // the HTTP/2 handler counts the connection from here
      // h2c by Upgrade: the HTTP/2 handlers took over this connection; this handler and its timer leave
      stopObserving(ctx);
      ctx.pipeline().remove(this);
    }
    ctx.fireUserEventTriggered(evt);
  }

  private void onRequest(HttpRequest req) {
    headerBytesPending = false;
    if (!upgradeChecked) {
      upgradeChecked = true;
      var upgrader = ctx.pipeline().get(io.netty.handler.codec.http.HttpServerUpgradeHandler.class);
      if (upgrader != null && !req.headers().contains(HttpHeaderNames.UPGRADE)) {
        ctx.pipeline().remove(upgrader); // clients upgrade on their first request; spare the rest the extra hop
      }
    }
    DecoderResult r = req.decoderResult();
    if (r.isFailure()) {
      ReferenceCountUtil.release(req);
      protocolError(r.cause());
      return;
    }
    HttpHeaders h = req.headers();
    String problem = H1RequestChecks.check(req, hcm);
    if (problem != null) {
      ReferenceCountUtil.release(req);
      int status = Integer.parseInt(problem.substring(0, 3));
      logger.debug("[{}] rejected request: {}", ctx.channel().id(), problem);
      reject(status, problem.substring(4));
      return;
    }
    keepAlive = Http1Syntax.keepAlive(req) && !draining;
    requestVersion = req.protocolVersion().minorVersion() == 0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
    headOrNoBody = req.method().equals(HttpMethod.HEAD);
    boolean bodyless = !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0;
    // a request without a body is whole with its head: a reply made at once (a 404, a 403, a 429) leaves the
    // connection open, as Envoy's does, where one whose body is still to come must close it
    requestInProgress = !bodyless;
    if (HttpUtil.is100ContinueExpected(req)) {
      h.remove(HttpHeaderNames.EXPECT); // Envoy answers the expectation itself and never forwards it
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    HttpStream s = new HttpStream(conn, this);
    stream = s;
    s.onRequestHeaders(req, bodyless);
  }

  private void protocolError(Throwable cause) {
    hcm.stats().cxProtocolError.inc();
    int status = 400;
    if (cause instanceof TooLongHttpHeaderException) {
      status = 431;
    } else if (cause instanceof TooLongHttpLineException) {
      status = 414;
    } else if (cause instanceof TooLongFrameException) {
      status = 431;
    }
    logger.debug("[{}] malformed request: {}", ctx.channel().id(), cause.toString());
    if (stream != null && !stream.isDone()) {
      boolean started = stream.responseStarted();
      stream.onDownstreamReset();
      if (started) {
        rejected = true;
        ctx.close();
        return;
      }
    }
    reject(status, HttpResponseStatus.valueOf(status).reasonPhrase());
  }

  /** Answers with {@code status} and closes; the rest of the connection's bytes are never parsed. */
  private void reject(int status, String body) {
    rejected = true;
    releaseQueued();
    ctx.channel().config().setAutoRead(false);
    FullHttpResponse r = LocalReply.http(ctx.alloc(), status, body, hcm.serverName());
    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    hcm.stats().responseCode(status);
    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    HttpStream s = stream;
    if (s != null && !s.isDone()) {
      s.onDownstreamReadComplete();
    }
    ctx.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    HttpStream s = stream;
    if (s != null && !s.isDone()) {
      s.onDownstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    HttpStream s = stream;
    if (s != null && !s.isDone()) {
      s.onDownstreamReset();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (handedOver) {
      hcm.stats().cxActive.dec();
      hcm.stats().cxHttp1Active.dec();
      if (conn.tls()) {
        hcm.stats().cxSslActive.dec();
      }
    } else {
      hcm.stats().connectionClosed(false, conn.tls(), LoopClock.nanoTime() - createdNanos,
          stream != null && !stream.isDone());
    }
    if (timer != null) {
      timer.cancel(false);
    }
    releaseQueued();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    logger.debug("[{}] downstream error: {}", ctx.channel().id(), cause.toString());
    ctx.close();
  }

  private void releaseQueued() {
    Object o;
    while (queued != null && (o = queued.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
  }

  // ------------------------------------------------------------ DownstreamSink

  @Override
  public void closeAfterResponse() {
    keepAlive = false;
  }

  @Override
  public void write(HttpObject msg) {
    lastActivityNanos = LoopClock.nanoTime();
    if (msg instanceof HttpResponse resp) {
      resp.setProtocolVersion(requestVersion);
      HttpHeaders h = resp.headers();
      int code = resp.status().code();
      boolean bodyAllowed = !headOrNoBody && code != 204 && code != 304 && code >= 200;
      boolean unframed = bodyAllowed && !(resp instanceof LastHttpContent) && !h.contains(HttpHeaderNames.CONTENT_LENGTH);
      boolean http10 = requestVersion == HttpVersion.HTTP_1_0;
      if (http10 && unframed) {
        keepAlive = false; // HTTP/1.0 has no chunks: the close ends this body, as in Envoy
      }
      if (!keepAlive || draining || requestInProgress && resp instanceof LastHttpContent) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        closing = true;
      } else if (http10) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE); // 1.0 keeps a connection only when told
      }
      if (unframed && !http10) {
        HttpUtil.setTransferEncodingChunked(resp, true);
      }
      if (!bodyAllowed && code != 101 && !headOrNoBody) {
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      }
    }
    ctx.write(msg, ctx.voidPromise());
  }

  @Override
  public void flush() {
    ctx.flush();
  }

  @Override
  public boolean isWritable() {
    return ctx.channel().isWritable();
  }

  @Override
  public void setReadable(boolean readable) {
    ctx.channel().config().setAutoRead(readable);
  }

  @Override
  public void streamComplete(boolean requestComplete) {
    lastActivityNanos = LoopClock.nanoTime();
    headersStartNanos = lastActivityNanos;
    if (!requestComplete || closing || !keepAlive || draining) {
      rejected = true;
      releaseQueued();
      ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    stream = null;
    ctx.flush();
    ctx.channel().config().setAutoRead(true);
    drainQueue();
  }

  /** Serves pipelined requests in order: a queued request starts only once the one before it has completed. */
  private void drainQueue() {
    while (!noneQueued() && !rejected) {
      Object next = queued.peek();
      if (next instanceof HttpRequest && stream != null && !stream.isDone()) {
        break; // its turn comes when this stream completes; what this one was given still goes out below
      }
      queued.poll();
      if (next instanceof HttpRequest) {
        stream = null;
        handle(next);
      } else {
        deliverContent(next);
      }
    }
    if (!noneQueued()) {
      ctx.channel().config().setAutoRead(false); // the next request still waits: so does reading
    }
    HttpStream s = stream;
    if (!reading && s != null && !s.isDone()) {
      s.onDownstreamReadComplete(); // a queued body went upstream outside a read: no read's end will flush it
    }
  }

  @Override
  public void reset() {
    rejected = true;
    ctx.close();
  }

  @Override
  public void switchToTunnel(Channel upstream) {
    // an upgraded connection (websocket) counts as upgraded until it closes, and as destroyed then
    handedOver = true;
    hcm.stats().cxUpgradesTotal.inc();
    hcm.stats().cxUpgradesActive.inc();
    long opened = createdNanos;
    ctx.channel().closeFuture().addListener(f -> {
      hcm.stats().cxUpgradesActive.dec();
      hcm.stats().cxDestroy.inc();
      hcm.stats().cxLengthMs.recordNanos(LoopClock.nanoTime() - opened);
    });
    stopObserving(ctx);
    TunnelHandlers.join(ctx, upstream, List.of(Http1ServerCodec.class, Http1ServerHandler.class));
  }

  /** The connection is no longer HTTP/1.1's: its reads stop going to this handler's timer. */
  private static void stopObserving(ChannelHandlerContext ctx) {
    var meter = ctx.pipeline().get(io.bowline.core.transport.ByteMeter.class);
    if (meter != null) {
      meter.observe(null);
    }
  }

  @Override
  public boolean isHttp2() {
    return false;
  }

  @Override
  public boolean inReadBurst() {
    return reading; // the stream being read is the current one: the read's end tells it (channelReadComplete)
  }

  @Override
  public boolean isTls() {
    return conn.tls();
  }

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  // ------------------------------------------------------------ timeouts and drain

  private void drain() {
    drain(true);
  }

  private void drain(boolean closeIdle) {
    draining = true;
    if (closeIdle && (stream == null || stream.isDone())) {
      hcm.stats().cxDrainClose.inc();
      ctx.close();
    }
  }

  private void scheduleTimer() {
    long tick = 1000;
    timer = ctx.channel().eventLoop().scheduleAtFixedRate(this::checkTimeouts, tick, tick, TimeUnit.MILLISECONDS);
  }

  /**
   * One coarse timer per connection instead of a timer per request: idle_timeout, request_headers_timeout and
   * stream_idle_timeout are checked against activity timestamps once a second.
   */
  private void checkTimeouts() {
    long now = LoopClock.nanoTime();
    if (hcm.maxConnectionDurationMs() > 0 && !draining
        && (now - createdNanos) / 1_000_000 >= hcm.maxConnectionDurationMs()) {
      hcm.stats().cxMaxDurationReached.inc();
      drain(); // max_connection_duration: "Connection: close" on the response in flight, or close if idle
      return;
    }
    long idleMs = (now - lastActivityNanos) / 1_000_000;
    boolean active = stream != null && !stream.isDone();
    if (!active && !requestInProgress) {
      if (hcm.idleTimeoutMs() > 0 && idleMs >= hcm.idleTimeoutMs()) {
        hcm.stats().cxIdleTimeout.inc();
        ctx.close();
        return;
      }
      long headersMs = (now - headersStartNanos) / 1_000_000;
      if (hcm.requestHeadersTimeoutMs() > 0 && headerBytesPending && headersMs >= hcm.requestHeadersTimeoutMs()) {
        hcm.stats().headersTimeout.inc();
        reject(408, "request header timeout");
      }
      return;
    }
    long streamIdleMs = active ? stream.streamIdleTimeoutMs() : 0;
    if (active && streamIdleMs > 0 && idleMs >= streamIdleMs) {
      hcm.stats().rqIdleTimeout.inc();
      stream.onDownstreamReset();
      reject(408, "stream timeout");
    }
  }
}
