package io.bowline.core.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/1.1 upstream connection: the last handler of its pipeline and the {@link UpstreamRequest} of whichever
 * stream holds it. It goes back to its pool only when request and response both ended cleanly with keep-alive;
 * anything else (an early response, a decode error, "Connection: close") closes it, so a connection is never reused
 * in an unknown state.
 */
final class Http1Connection extends ChannelInboundHandlerAdapter implements UpstreamRequest {
  private static final Logger logger = LoggerFactory.getLogger(Http1Connection.class);

  private final Http1Pool pool;
  private final Channel channel;
  private final Http1ClientCodec codec;
  private @Nullable UpstreamListener listener;
  /** Formatted once: every request on this keep-alive connection logs the same local address. */
  private @Nullable String localAddressText;
  private boolean tlsLooked;
  private javax.net.ssl.@Nullable SSLSession tls;
  private boolean requestEnded;
  private boolean responseEnded;
  private boolean keepAlive = true;
  private boolean informational;
  private boolean upgradeRequested;
  private int requestsServed;
  long idleSinceNanos;

  Http1Connection(Http1Pool pool, Channel channel, Http1ClientCodec codec) {
    this.pool = pool;
    this.channel = channel;
    this.codec = codec;
  }

  Http1ClientCodec codec() {
    return codec;
  }

  Channel channel() {
    return channel;
  }

  boolean isUsable() {
    return channel.isActive() && keepAlive && codec.reusable();
  }

  void attach(UpstreamListener l) {
    listener = l;
    requestEnded = false;
    responseEnded = false;
    informational = false;
    upgradeRequested = false;
    requestsServed++;
    channel.config().setAutoRead(true);
  }

  int requestsServed() {
    return requestsServed;
  }

  @Override
  public void write(HttpObject msg) {
    if (msg instanceof io.netty.handler.codec.http.HttpRequest req) {
      upgradeRequested = req.headers().contains(HttpHeaderNames.UPGRADE);
      if (req.method() == io.netty.handler.codec.http.HttpMethod.CONNECT) {
        keepAlive = false; // whatever the answer, the connection is not a pool's any more
      }
    }
    if (msg instanceof LastHttpContent) {
      requestEnded = true;
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
    UpstreamListener l = listener;
    listener = null;
    if (l == null) {
      return;
    }
    if (requestEnded && responseEnded && keepAlive && codec.reusable() && channel.isActive()) {
      pool.release(this);
    } else {
      pool.stats().cxDestroyLocal.inc();
      channel.close();
    }
  }

  @Override
  public void reset() {
    listener = null;
    keepAlive = false;
    pool.stats().cxDestroyLocal.inc();
    channel.close();
  }

  @Override
  public java.net.InetSocketAddress localAddress() {
    return (java.net.InetSocketAddress) channel.localAddress();
  }

  @Override
  public javax.net.ssl.@Nullable SSLSession tlsSession() {
    if (!tlsLooked) { // the handshake is done before a request is handed this connection
      tls = UpstreamTls.session(channel);
      tlsLooked = true;
    }
    return tls;
  }

  @Override
  public @Nullable String localAddressText() {
    String t = localAddressText;
    if (t == null) {
      t = io.bowline.core.transport.AddressText.of(localAddress());
      localAddressText = t;
    }
    return t;
  }

  @Override
  public UpstreamHost host() {
    return pool.host();
  }

  @Override
  public boolean isHttp2() {
    return false;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    long outer = io.bowline.core.transport.LoopClock.enter(); // the response's timestamps share one clock read
    try {
      read(ctx, msg);
    } finally {
      io.bowline.core.transport.LoopClock.exit(outer);
    }
  }

  private void read(ChannelHandlerContext ctx, Object msg) {
    UpstreamListener l = listener;
    if (l == null) {
      // bytes on an idle pooled connection are a protocol violation: never hand them to the next request
      ReferenceCountUtil.release(msg);
      keepAlive = false;
      ctx.close();
      return;
    }
    if (msg instanceof HttpObject obj) {
      DecoderResult r = obj.decoderResult();
      if (r.isFailure()) {
        ReferenceCountUtil.release(msg);
        logger.debug("[{}] invalid upstream response: {}", channel.id(), r.cause().toString());
        pool.stats().cxProtocolError.inc();
        fail(l, "protocol error", true);
        return;
      }
    }
    if (msg instanceof HttpResponse response) {
      int code = response.status().code();
      if (code == 101 && upgradeRequested) {
        // the exchange becomes a tunnel: the stream takes the channel and this pool forgets it
        listener = null;
        keepAlive = false;
        pool.forget(this);
        ctx.pipeline().remove(codec);
        ctx.pipeline().remove(this);
        l.onUpgraded(response, channel);
        io.netty.buffer.ByteBuf early = codec.takeLeftover();
        if (early != null) {
          // tunnel bytes that came in the same read as the 101: the relay now in the pipeline carries them
          channel.pipeline().fireChannelRead(early);
          channel.pipeline().fireChannelReadComplete();
        }
        return;
      }
      informational = code >= 100 && code < 200;
      if (!informational && !io.bowline.core.http.Http1Syntax.keepAlive(response)) {
        keepAlive = false;
      }
      if (response.status().equals(HttpResponseStatus.SWITCHING_PROTOCOLS)) {
        keepAlive = false; // 101 without an upgrade request: Netty would treat the rest as a tunnel; do not reuse
      }
      l.onResponseHeaders(response);
    }
    if (msg instanceof HttpContent content) {
      if (informational) {
        content.release(); // the empty end of a 1xx response; the real response follows
        if (content instanceof LastHttpContent) {
          informational = false;
        }
        return;
      }
      if (content instanceof LastHttpContent) {
        responseEnded = true;
      }
      l.onResponseContent(content);
    }
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
  public void channelInactive(ChannelHandlerContext ctx) {
    pool.stats().cxActive.dec();
    pool.stats().cxDestroy.inc();
    pool.forget(this);
    UpstreamListener l = listener;
    if (l != null) {
      listener = null;
      pool.stats().cxDestroyRemote.inc();
      l.onUpstreamReset("connection termination", false);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    logger.debug("[{}] upstream connection error: {}", channel.id(), cause.toString());
    UpstreamListener l = listener;
    if (l != null) {
      fail(l, "connection failure", false);
    } else {
      ctx.close();
    }
  }

  private void fail(UpstreamListener l, String reason, boolean protocolError) {
    listener = null;
    keepAlive = false;
    channel.close();
    l.onUpstreamReset(reason, protocolError);
  }
}
