package io.bowline.core.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;

/**
 * Turns an upgraded exchange (WebSocket) into a raw byte relay between the downstream and upstream channels, with
 * backpressure both ways: a side stops reading while the other side cannot take more.
 */
public final class TunnelHandlers {
  private TunnelHandlers() {}

  /** Removes the named HTTP handlers from the downstream pipeline and relays bytes both ways from now on. */
  static void join(ChannelHandlerContext downstreamCtx, Channel upstream,
      List<Class<? extends io.netty.channel.ChannelHandler>> httpHandlers) {
    Channel downstream = downstreamCtx.channel();
    downstream.pipeline().addLast("tunnel", new Relay(upstream));
    upstream.pipeline().addLast("tunnel", new Relay(downstream));
    for (Class<? extends io.netty.channel.ChannelHandler> type : httpHandlers) {
      if (downstream.pipeline().get(type) != null) {
        downstream.pipeline().remove(type); // a decoder hands its buffered bytes on to the relay as it goes
      }
    }
    downstream.config().setAutoRead(true);
    upstream.config().setAutoRead(true);
  }

  /** Relays everything read on one channel to {@code peer}. */
  public static final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;
    private long bytes;

    public Relay(Channel peer) {
      this.peer = peer;
    }

    /** Bytes relayed to the peer so far (read on the shared event loop). */
    public long bytes() {
      return bytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof io.netty.buffer.ByteBuf b) {
        bytes += b.readableBytes();
      }
      peer.write(msg, peer.voidPromise());
      if (!peer.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      peer.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      peer.config().setAutoRead(ctx.channel().isWritable());
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (peer.isActive()) {
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
