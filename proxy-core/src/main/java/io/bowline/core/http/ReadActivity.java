package io.bowline.core.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** Sits before the HTTP/1 decoder so that partial requests (slowloris) still count as activity with a start. */
final class ReadActivity extends ChannelInboundHandlerAdapter {
  private final Http1ServerHandler handler;

  ReadActivity(Http1ServerHandler handler) {
    this.handler = handler;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    handler.bytesArrived();
    ctx.fireChannelRead(msg);
  }
}
