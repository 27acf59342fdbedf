package io.bowline.core.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/** One multiplexed HTTP/2 upstream connection; streams are opened on it until it is full or going away. */
final class Http2Connection extends ChannelInboundHandlerAdapter {
  private final Http2Pool pool;
  private final Channel channel;
  private final Http2FrameCodec codec;
  private final ArrayDeque<UpstreamListener> waiting = new ArrayDeque<>();
  private boolean ready;
  private boolean goingAway;
  private int opening;
  /** Formatted once: every stream on this connection logs the same local address. */
  private @Nullable String localAddressText;
  private boolean tlsLooked;
  private javax.net.ssl.@Nullable SSLSession tls;

  Http2Connection(Http2Pool pool, Channel channel, Http2FrameCodec codec) {
    this.pool = pool;
    this.channel = channel;
    this.codec = codec;
  }

  Channel channel() {
    return channel;
  }

  javax.net.ssl.@Nullable SSLSession tlsSession() {
    if (!tlsLooked) {
      tls = UpstreamTls.session(channel);
      tlsLooked = true;
    }
    return tls;
  }

  @Nullable String localAddressText() {
    String t = localAddressText;
    if (t == null) {
      t = io.bowline.core.transport.AddressText.of((java.net.InetSocketAddress) channel.localAddress());
      localAddressText = t;
    }
    return t;
  }

  boolean canTakeStream() {
    if (goingAway) {
      return false;
    }
    if (!ready) {
      return waiting.size() < 100; // still connecting: queue on it rather than open another connection
    }
    if (!channel.isActive()) {
      return false;
    }
    var local = codec.connection().local();
    return local.numActiveStreams() + opening < local.maxActiveStreams();
  }

  void markReady() {
    ready = true;
    UpstreamListener l;
    while ((l = waiting.pollFirst()) != null) {
      openStream(l);
    }
  }

  void failWaiting(UpstreamFailure failure, String detail) {
    UpstreamListener l;
    while ((l = waiting.pollFirst()) != null) {
      l.onUpstreamFailure(failure, detail);
    }
  }

  /** The connection went away before these streams were opened on it: they were never sent, so they may go again. */
  private void refuseWaiting() {
    UpstreamListener l;
    while ((l = waiting.pollFirst()) != null) {
      l.onUpstreamReset(UpstreamListener.REFUSED_STREAM, false);
    }
  }

  void newStream(UpstreamListener listener) {
    if (!ready) {
      waiting.addLast(listener);
      return;
    }
    openStream(listener);
  }

  private void openStream(UpstreamListener listener) {
    Http2StreamUpstream stream = new Http2StreamUpstream(pool, this, listener);
    opening++;
    new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel ch) {
        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false, false));
        ch.pipeline().addLast(stream);
      }
    }).open().addListener(f -> {
      opening--;
      if (f.isSuccess()) {
        stream.opened((Http2StreamChannel) f.getNow());
        listener.onUpstreamReady(stream);
      } else {
        // the connection closed while the stream was being set up: nothing was sent
        listener.onUpstreamReset(UpstreamListener.REFUSED_STREAM, false);
      }
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2GoAwayFrame) {
      goingAway = true;
      pool.forget(this);
      refuseWaiting();
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    goingAway = true;
    pool.stats().cxActive.dec();
    pool.stats().cxDestroy.inc();
    pool.forget(this);
    if (ready) {
      refuseWaiting();
    } else {
      failWaiting(UpstreamFailure.CONNECT_FAILURE, "connection closed");
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
