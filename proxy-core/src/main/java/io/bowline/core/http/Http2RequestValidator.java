package io.bowline.core.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * Checks a stream's request pseudo-headers (RFC 9113 §8.3.1) before anything converts them: :method, :scheme and a
 * non-empty :path (absolute path, or "*" for OPTIONS) are required, except for CONNECT. A bad request is answered
 * with RST_STREAM(PROTOCOL_ERROR) and never reaches routing, so nothing goes upstream for it.
 */
final class Http2RequestValidator extends ChannelInboundHandlerAdapter {
  private boolean checked;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!checked && msg instanceof Http2HeadersFrame frame) {
      checked = true;
      if (!valid(frame.headers())) {
        ReferenceCountUtil.release(msg);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR))
            .addListener(ChannelFutureListener.CLOSE);
        return;
      }
      ctx.pipeline().remove(this); // one check per stream; the rest of the stream passes untouched
    }
    ctx.fireChannelRead(msg);
  }

  static boolean valid(Http2Headers h) {
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
}
