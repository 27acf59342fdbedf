package io.bowline.core.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/** One HTTP/2 stream to an upstream, seen as HTTP objects through Netty's stream-frame codec. */
final class Http2StreamUpstream extends ChannelInboundHandlerAdapter implements UpstreamRequest {
  private final Http2Pool pool;
  private final Http2Connection connection;
  private @Nullable UpstreamListener listener;
  private @Nullable Http2StreamChannel channel;
  private boolean responseEnded;
  private boolean informational;
  private boolean refused;
  private boolean headersWritten;

  Http2StreamUpstream(Http2Pool pool, Http2Connection connection, UpstreamListener listener) {
    this.pool = pool;
    this.connection = connection;
    this.listener = listener;
  }

  void opened(Http2StreamChannel ch) {
    this.channel = ch;
  }

  @Override
  public void write(HttpObject msg) {
    if (!headersWritten) {
      headersWritten = true;
      // the codec refuses to open a stream the peer's GOAWAY or max_concurrent_streams no longer allows: such a
      // stream was never sent
      channel.write(msg).addListener(f -> {
        if (!f.isSuccess()) {
          refused = true;
          channel.close();
        }
      });
      return;
    }
    channel.write(msg, channel.voidPromise());
  }

  @Override
  public void flush() {
    channel.flush();
  }

  @Override
  public boolean isWritable() {
    return channel.isWritable();
  }

  @Override
  public void setReadable(boolean readable) {
    channel.config().setAutoRead(readable);
  }

  @Override
  public void release() {
    listener = null;
    if (!responseEnded && channel != null) {
      channel.close(); // RST_STREAM(CANCEL) for a stream we no longer want
    }
  }

  @Override
  public void reset() {
    listener = null;
    if (channel != null) {
      channel.close();
    }
  }

  @Override
  public java.net.@Nullable InetSocketAddress localAddress() {
    return channel == null || channel.parent() == null ? null
        : (java.net.InetSocketAddress) channel.parent().localAddress();
  }

  @Override
  public javax.net.ssl.@Nullable SSLSession tlsSession() {
    return channel == null ? null : connection.tlsSession();
  }

  @Override
  public @Nullable String localAddressText() {
    return channel == null ? null : connection.localAddressText();
  }

  @Override
  public UpstreamHost host() {
    return pool.host();
  }

  @Override
  public boolean isHttp2() {
    return true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    UpstreamListener l = listener;
    if (l == null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse r) {
      if (r.headers().size() > pool.maxResponseHeadersCount()) {
        refuse(ctx, msg, l); // max_headers_count holds for HTTP/2 as for HTTP/1.1 (Envoy: 502, the stream reset)
        return;
      }
      int code = r.status().code();
      informational = code >= 100 && code < 200;
      l.onResponseHeaders(r);
    }
    if (msg instanceof HttpContent c) {
      if (informational) {
        c.release();
        if (c instanceof LastHttpContent) {
          informational = false;
        }
        return;
      }
      if (c instanceof LastHttpContent last) {
        if (last.trailingHeaders().size() > pool.maxResponseHeadersCount()) {
          refuse(ctx, msg, l);
          return;
        }
        responseEnded = true;
      }
      l.onResponseContent(c);
    }
  }

  /** A response this proxy will not pass on: the stream is reset and the request fails as a protocol error. */
  private void refuse(ChannelHandlerContext ctx, Object msg, UpstreamListener l) {
    ReferenceCountUtil.release(msg);
    listener = null;
    ctx.close();
    l.onUpstreamReset("protocol error: more than " + pool.maxResponseHeadersCount()
        + " header fields (max_headers_count)", true);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    UpstreamListener l = listener;
    if (l != null) {
      l.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UpstreamListener l = listener;
    if (l != null) {
      l.onUpstreamWritabilityChanged(ctx.channel().isWritable());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    // the multiplexer passes GOAWAY only to streams above its last stream id: the peer never processed them
    if (evt instanceof Http2GoAwayFrame
        || evt instanceof Http2ResetFrame r && r.errorCode() == Http2Error.REFUSED_STREAM.code()) {
      refused = true;
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    UpstreamListener l = listener;
    listener = null;
    if (l != null && !responseEnded) {
      l.onUpstreamReset(refused ? UpstreamListener.REFUSED_STREAM : "remote reset", false);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    UpstreamListener l = listener;
    listener = null;
    ctx.close();
    if (l != null && !responseEnded) {
      l.onUpstreamReset("protocol error", true);
    }
  }
}
