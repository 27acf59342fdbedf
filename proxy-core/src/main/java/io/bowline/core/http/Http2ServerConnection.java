package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.listener.ConnectionTracker;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/2 side of the connection manager, at connection level: the frame codec with the HCM's settings and
 * Netty's flood protections, the stream multiplexer, idle timeout, and drain (GOAWAY, then close once the streams
 * in flight finish).
 */
public final class Http2ServerConnection extends ChannelInboundHandlerAdapter {
  private final HttpConnectionContext conn;
  private final ConnectionTracker tracker;
  private final Http2FrameCodec codec;
  private final long drainTimeoutMs;
  private @Nullable ScheduledFuture<?> timer;
  private long idleSinceNanos = System.nanoTime();

  private Http2ServerConnection(HttpConnectionContext conn, ConnectionTracker tracker, Http2FrameCodec codec,
      long drainTimeoutMs) {
    this.conn = conn;
    this.tracker = tracker;
    this.codec = codec;
    this.drainTimeoutMs = drainTimeoutMs;
  }

  /** The frame codec configured from the HCM: settings, header limits, and flood caps. */
  public static Http2FrameCodec newCodec(HcmConfig hcm, long drainTimeoutMs) {
    HcmConfig.Http2Settings s = hcm.http2();
    Http2Settings settings = Http2Settings.defaultSettings()
        .maxConcurrentStreams(s.maxConcurrentStreams())
        .initialWindowSize(s.initialStreamWindowSize())
        .maxHeaderListSize(hcm.maxRequestHeadersBytes());
    return Http2FrameCodecBuilder.forServer()
        .initialSettings(settings)
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

  /** Installs codec, multiplexer and this handler at the end of {@code p}. */
  public static void install(ChannelPipeline p, HttpConnectionContext conn, ConnectionTracker tracker,
      long drainTimeoutMs) {
    Http2FrameCodec codec = newCodec(conn.hcm(), drainTimeoutMs);
    Http2ServerConnection c = new Http2ServerConnection(conn, tracker, codec, drainTimeoutMs);
    // responses of many streams finish in one event-loop turn (each on its own upstream read): one write for all
    p.addLast(new io.netty.handler.flush.FlushConsolidationHandler(256, true));
    p.addLast(codec, newMultiplexer(conn, c.streams), c);
  }

  /** For h2c by Upgrade: the codec and multiplexer are added by Netty's upgrade handler, this after them. */
  public static Http2ServerConnection forUpgrade(HttpConnectionContext conn, ConnectionTracker tracker,
      Http2FrameCodec codec, long drainTimeoutMs) {
    return new Http2ServerConnection(conn, tracker, codec, drainTimeoutMs);
  }

  /** The open streams of this connection, swept once a second for stream_idle_timeout. */
  final java.util.Set<Http2StreamHandler> streams = new java.util.HashSet<>();
  private final long createdNanos = System.nanoTime();

  Http2MultiplexHandler multiplexer() {
    return newMultiplexer(conn, streams);
  }

  static Http2MultiplexHandler newMultiplexer(HttpConnectionContext conn, java.util.Set<Http2StreamHandler> streams) {
    return new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel ch) {
        ch.pipeline().addLast(new Http2RequestValidator(),
            new Http2StreamFrameToHttpObjectCodec(true, false), // the frame codec validated the names
            new Http2StreamHandler(conn, streams));
      }
    });
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    HcmConfig hcm = conn.hcm();
    hcm.stats().cxTotal.inc();
    hcm.stats().cxActive.inc();
    hcm.stats().cxHttp2Total.inc();
    Channel ch = ctx.channel();
    tracker.register(ch, closeIdle -> {
      hcm.stats().cxDrainClose.inc();
      ch.close(); // Http2ConnectionHandler.close: GOAWAY, wait for open streams, then close
    });
    int connWindow = hcm.http2().initialConnectionWindowSize();
    try {
      var local = codec.connection().local();
      int current = local.flowController().initialWindowSize(codec.connection().connectionStream());
      if (connWindow > current) {
        local.flowController().incrementWindowSize(codec.connection().connectionStream(), connWindow - current);
      }
    } catch (io.netty.handler.codec.http2.Http2Exception e) {
      ctx.close();
    }
    timer = ch.eventLoop().scheduleAtFixedRate(() -> checkIdle(ctx), 1, 1, TimeUnit.SECONDS);
  }

  private void checkIdle(ChannelHandlerContext ctx) {
    HcmConfig hcm = conn.hcm();
    long now = System.nanoTime();
    if (!streams.isEmpty()) { // each stream's limit: its route's idle_timeout, or the HCM's stream_idle_timeout
      for (Http2StreamHandler s : new java.util.ArrayList<>(streams)) {
        s.checkIdle(now);
      }
    }
    if (hcm.maxConnectionDurationMs() > 0 && (now - createdNanos) / 1_000_000 >= hcm.maxConnectionDurationMs()) {
      ctx.channel().close(); // max_connection_duration: GOAWAY, then close when the open streams finish
      return;
    }
    if (hcm.idleTimeoutMs() <= 0) {
      return;
    }
    if (codec.connection().numActiveStreams() > 0) {
      idleSinceNanos = System.nanoTime();
      return;
    }
    if ((System.nanoTime() - idleSinceNanos) / 1_000_000 >= conn.hcm().idleTimeoutMs()) {
      conn.hcm().stats().cxIdleTimeout.inc();
      ctx.channel().close(); // GOAWAY first, then close
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg); // connection-level frames the multiplexer passed on (SETTINGS, PING, GOAWAY)
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    conn.hcm().stats().cxActive.dec();
    if (timer != null) {
      timer.cancel(false);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof io.netty.handler.codec.http2.Http2Exception) {
      // the frame codec tells us first, then answers itself with GOAWAY(the error's code) and closes; closing here
      // would send a graceful GOAWAY(NO_ERROR) ahead of it
      conn.hcm().stats().cxProtocolError.inc();
      return;
    }
    ctx.close();
  }

  long drainTimeoutMs() {
    return drainTimeoutMs;
  }
}
