package io.bowline.core.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's {@code delayed_close_timeout} for a downstream HTTP connection: when the proxy closes it, what was written
 * goes out, then a FIN, and the connection stays open for reading — what arrives is dropped — until the peer closes
 * too or the timeout passes. Closing a socket with unread bytes in it sends a reset, and a reset that overtakes the
 * last response (a 400, a {@code Connection: close} answer, an HTTP/2 GOAWAY naming the error) makes the peer's
 * kernel drop it unread (RFC 9112 section 9.6).
 *
 * <p>It sits first in the pipeline, under TLS, so TLS has sent its close_notify by the time the close gets here; and
 * it overrides only {@code close}, so reads and writes never pass through it.
 */
public final class LingeringClose extends ChannelOutboundHandlerAdapter {
  private final long timeoutMs;
  private boolean lingering;
  private boolean abort;

  public LingeringClose(long timeoutMs) {
    this.timeoutMs = timeoutMs;
  }

  /** Closes {@code ch} now, without lingering (the drain time is over); call on any thread. */
  public static void closeNow(Channel ch) {
    ch.eventLoop().execute(() -> {
      LingeringClose l = ch.pipeline().get(LingeringClose.class);
      if (l != null) {
        l.abort = true;
      }
      ch.close();
    });
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    Channel ch = ctx.channel();
    if (lingering) {
      if (abort) {
        ctx.close(promise);
      } else {
        ch.closeFuture().addListener(f -> promise.trySuccess());
      }
      return;
    }
    if (abort || timeoutMs <= 0 || !ch.isActive() || !(ch instanceof DuplexChannel duplex)
        || duplex.isInputShutdown()) {
      ctx.close(promise);
      return;
    }
    lingering = true;
    ctx.pipeline().addAfter(ctx.name(), null, new Discard(ctx));
    ch.closeFuture().addListener(f -> promise.trySuccess());
    // the timer runs from now, whether or not the peer takes what is pending (as Envoy's)
    var timer = ctx.executor().schedule(() -> ctx.close(), timeoutMs, TimeUnit.MILLISECONDS);
    ch.closeFuture().addListener(f -> timer.cancel(false));
    shutdownOutputWhenFlushed(ctx, duplex);
    if (!ch.config().isAutoRead()) {
      ch.config().setAutoRead(true); // reading is how the peer's FIN is seen; a paused reader would wait it out
    }
  }

  /**
   * The FIN goes once everything written has left: a write completes inside the transport's own bookkeeping of the
   * outbound buffer (and on io_uring a write the kernel still holds is in it), so the shutdown is a task of its own,
   * taken when nothing is pending; whatever was written meanwhile is flushed and waited for first.
   */
  private static void shutdownOutputWhenFlushed(ChannelHandlerContext ctx, DuplexChannel duplex) {
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.executor().execute(() -> {
      if (!f.isSuccess() || !duplex.isActive()) {
        ctx.close();
        return;
      }
      ChannelOutboundBuffer pending = duplex.unsafe().outboundBuffer();
      if (pending != null && !pending.isEmpty()) {
        shutdownOutputWhenFlushed(ctx, duplex);
        return;
      }
      if (!duplex.isOutputShutdown()) {
        duplex.shutdownOutput();
      }
    }));
  }

  /** Drops what a lingering connection reads; the peer's FIN closes the channel (half-closure is off). */
  private static final class Discard extends ChannelInboundHandlerAdapter {
    /** The lingering handler's context: a close from it is not lingered on again. */
    private final ChannelHandlerContext lingering;

    Discard(ChannelHandlerContext lingering) {
      this.lingering = lingering;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {}

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      lingering.close(); // a reset while lingering: nothing left to say
    }
  }
}
