package io.bowline.core.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Keeps what a connection read while a network filter was deciding about it (the bytes that came with or right after
 * the TLS handshake), and hands it to the terminal filter once that is installed behind it.
 */
final class HeldInbound extends ChannelInboundHandlerAdapter {
  private final ArrayDeque<Object> held = new ArrayDeque<>(2);
  private boolean readComplete;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    held.add(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    readComplete = true;
  }

  /** Passes on what was held to the handlers after this one, and leaves the pipeline. */
  void release(Channel ch) {
    ChannelHandlerContext ctx = ch.pipeline().context(this);
    if (ctx == null) {
      return;
    }
    Object msg;
    while ((msg = held.poll()) != null) {
      ctx.fireChannelRead(msg);
    }
    if (readComplete) {
      ctx.fireChannelReadComplete();
    }
    ch.pipeline().remove(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    Object msg;
    while ((msg = held.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
