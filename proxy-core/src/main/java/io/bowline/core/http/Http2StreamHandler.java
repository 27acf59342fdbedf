package io.bowline.core.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/** One downstream HTTP/2 stream (a child channel of the multiplexer), seen as HTTP objects. */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter implements DownstreamSink {
  private static final org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger(Http2StreamHandler.class);
  private final HttpConnectionContext conn;
  private ChannelHandlerContext ctx;
  private @Nullable HttpStream stream;

  private final java.util.Set<Http2StreamHandler> active;

  Http2StreamHandler(HttpConnectionContext conn, java.util.Set<Http2StreamHandler> active) {
    this.conn = conn;
    this.active = active;
  }

  /** Called by the connection's once-a-second sweep: applies this stream's idle limit. */
  void checkIdle(long now) {
    HttpStream s = stream;
    long idleMs = s == null ? 0 : s.streamIdleTimeoutMs();
    if (s != null && !s.isDone() && idleMs > 0 && (now - s.lastActivityNanos()) / 1_000_000 >= idleMs) {
      s.onStreamIdleTimeout();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    active.add(this);
    ctx.fireChannelActive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    active.remove(this);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest req) {
      if (stream != null) {
        ReferenceCountUtil.release(msg); // a second HEADERS that is not trailers: the codec would have refused it
        return;
      }
      HttpStream s = new HttpStream(conn, this);
      stream = s;
      if (req instanceof FullHttpRequest full) {
        // HEADERS with END_STREAM: split so the stream sees headers, then the (empty) end
        HttpRequest headers = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
        s.onRequestHeaders(headers, !full.content().isReadable() && full.trailingHeaders().isEmpty());
        s.onRequestContent(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
      } else {
        s.onRequestHeaders(req, false);
      }
      return;
    }
    if (msg instanceof HttpContent c && stream != null) {
      stream.onRequestContent(c);
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (stream != null && !stream.isDone()) {
      stream.onDownstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (stream != null && !stream.isDone()) {
      stream.onDownstreamWritabilityChanged(ctx.channel().isWritable());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    active.remove(this);
    if (stream != null && !stream.isDone()) {
      stream.onDownstreamReset();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    logger.debug("[{}] stream error: {}", ctx.channel().id(), cause.toString());
    // an invalid request (missing pseudo-header, bad conversion) is the peer's protocol error: say so in the RST
    io.netty.handler.codec.http2.Http2Error code = io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR;
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof io.netty.handler.codec.http2.Http2Exception h2) {
        code = h2.error();
        break;
      }
    }
    if (stream != null && !stream.isDone()) {
      stream.onDownstreamReset();
    }
    ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(code))
        .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
  }

  @Override
  public void write(HttpObject msg) {
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
    ctx.flush();
    if (!requestComplete) {
      // the response ended before the request body: tell the client to stop sending (RST_STREAM NO_ERROR)
      ctx.channel().eventLoop().execute(() -> ctx.close());
    }
  }

  @Override
  public void reset() {
    ctx.close(); // RST_STREAM(CANCEL)
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
  public boolean isTls() {
    return conn.tls();
  }

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }
}
