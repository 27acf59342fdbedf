package io.bowline.core.http;

import io.bowline.core.transport.LoopClock;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits before the HTTP/1 codec. It marks activity (so a partial request, slowloris, has a start for
 * request_headers_timeout) and reads the loop's clock once for everything the read leads to.
 */
final class ReadActivity extends ChannelInboundHandlerAdapter {
  private final Http1ServerHandler handler;

  ReadActivity(Http1ServerHandler handler) {
    this.handler = handler;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    long outer = LoopClock.enter(); // one clock read for everything these bytes lead to
    try {
      handler.bytesArrived();
      ctx.fireChannelRead(msg);
    } finally {
      LoopClock.exit(outer);
    }
  }
}
