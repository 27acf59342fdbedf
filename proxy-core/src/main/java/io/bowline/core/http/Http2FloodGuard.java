package io.bowline.core.http;

import io.bowline.core.stats.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.logging.LogLevel;
import io.netty.util.internal.PlatformDependent;

/**
 * Envoy's two HTTP/2 flood caps that Netty lacks, per connection: at most 100 PRIORITY frames per opened stream
 * ({@code max_inbound_priority_frames_per_stream}), and at most 10 WINDOW_UPDATE frames per DATA frame we sent
 * ({@code max_inbound_window_update_frames_per_data_frame_sent}), with Envoy's formulas. Over a cap the connection
 * gets GOAWAY(ENHANCE_YOUR_CALM).
 *
 * <p>It rides on Netty's frame-logger hook because that is the one place that sees every frame in both directions
 * before the codec acts on it; it logs nothing. Netty itself caps queued control frames, consecutive empty DATA
 * frames, small CONTINUATION frames and resets in both directions.
 */
final class Http2FloodGuard extends Http2FrameLogger {
  static final int PRIORITY_FRAMES_PER_STREAM = 100;
  static final int WINDOW_UPDATES_PER_DATA_FRAME_SENT = 10;

  private final Counter priorityFlood;
  private final Counter windowUpdateFlood;
  private int lastOpenedStream;
  private long openedStreams;
  private long outboundDataFrames;
  private long inboundPriority;
  private long inboundWindowUpdates;

  Http2FloodGuard(Counter priorityFlood, Counter windowUpdateFlood) {
    super(LogLevel.TRACE, Http2FloodGuard.class);
    this.priorityFlood = priorityFlood;
    this.windowUpdateFlood = windowUpdateFlood;
  }

  @Override
  public boolean isEnabled() {
    return false;
  }

  @Override
  public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int padding, boolean endStream) {
    opened(direction, streamId);
  }

  @Override
  public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
    opened(direction, streamId);
  }

  private void opened(Direction direction, int streamId) {
    if (direction == Direction.INBOUND && streamId > lastOpenedStream) {
      lastOpenedStream = streamId;
      openedStreams++;
    }
  }

  @Override
  public void logData(Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
      boolean endStream) {
    if (direction == Direction.OUTBOUND) {
      outboundDataFrames++;
    }
  }

  @Override
  public void logPriority(Direction direction, ChannelHandlerContext ctx, int streamId, int streamDependency,
      short weight, boolean exclusive) {
    if (direction == Direction.INBOUND
        && ++inboundPriority > PRIORITY_FRAMES_PER_STREAM * (1 + openedStreams)) {
      priorityFlood.inc();
      throw flood("too many PRIORITY frames");
    }
  }

  @Override
  public void logWindowsUpdate(Direction direction, ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
    if (direction == Direction.INBOUND && ++inboundWindowUpdates
        > 1 + 2 * (openedStreams + WINDOW_UPDATES_PER_DATA_FRAME_SENT * outboundDataFrames)) {
      windowUpdateFlood.inc();
      throw flood("too many WINDOW_UPDATE frames");
    }
  }

  /** Netty's decoder turns a connection error thrown from here into GOAWAY and close; the hook cannot declare it. */
  private static RuntimeException flood(String what) {
    PlatformDependent.throwException(Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM, what));
    return new IllegalStateException(what); // not reached
  }
}
