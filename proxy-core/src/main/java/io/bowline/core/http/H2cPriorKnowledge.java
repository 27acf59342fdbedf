package io.bowline.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;

/**
 * First on a cleartext connection that may speak either HTTP/1.1 or HTTP/2 (h2c with prior knowledge): it reads
 * the connection's first bytes, and when they are HTTP/2's connection preface it switches the connection to HTTP/2
 * ({@code toHttp2}); otherwise it leaves, and the bytes go on to HTTP/1.1. Either way it is gone after the first
 * bytes that decide, and they are passed on untouched.
 */
final class H2cPriorKnowledge extends ChannelInboundHandlerAdapter {
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
  private static final int PREFACE_LENGTH = PREFACE.readableBytes();

  private final Runnable toHttp2;
  private ByteBuf seen;

  /** @param toHttp2 replaces the HTTP/1.1 handlers with HTTP/2's, after this handler */
  H2cPriorKnowledge(Runnable toHttp2) {
    this.toHttp2 = toHttp2;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ByteBuf buf = in;
    if (seen != null) {
      buf = ctx.alloc().ioBuffer(seen.readableBytes() + in.readableBytes()).writeBytes(seen).writeBytes(in);
      seen.release();
      in.release();
      seen = null;
    }
    int n = Math.min(buf.readableBytes(), PREFACE_LENGTH);
    if (!ByteBufUtil.equals(PREFACE, PREFACE.readerIndex(), buf, buf.readerIndex(), n)) {
      ctx.fireChannelRead(buf);
      ctx.pipeline().remove(this);
      return;
    }
    if (n < PREFACE_LENGTH) {
      seen = buf; // a preface so far: wait for the rest of it
      return;
    }
    toHttp2.run();
    ctx.fireChannelRead(buf); // the HTTP/2 handler reads the preface itself
    ctx.pipeline().remove(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (seen != null) {
      seen.release();
      seen = null;
    }
  }
}
