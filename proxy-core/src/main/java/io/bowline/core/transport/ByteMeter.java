package io.bowline.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import org.jspecify.annotations.Nullable;

/**
 * Counts one connection's bytes into its owner's {@link ConnectionBytes}: what is read as it passes up, what is
 * written as it passes down. It sits where the codecs' bytes are plain (after TLS), so every protocol on the
 * connection, upgrades and tunnels included, is counted once. Only its read and write are called (Netty skips a
 * handler's methods it does not override), and each adds to a striped counter: no allocation, no lookup.
 */
public final class ByteMeter extends ChannelDuplexHandler {
  private final ConnectionBytes stats;
  private final long startNanos;
  private volatile @Nullable Channel channel;
  private @Nullable ReadObserver observer;

  /**
   * Told of every read before its bytes go up, inside the read event's one clock reading ({@link LoopClock}): an
   * HTTP/1.1 connection's handler, whose header timer starts with a request's first bytes. The meter is already the
   * first handler its reads meet, so this costs the connection no pipeline step of its own.
   */
  public interface ReadObserver {
    void bytesArrived();
  }

  ByteMeter(ConnectionBytes stats, long startNanos) {
    this.stats = stats;
    this.startNanos = startNanos;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    stats.opened(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) { // also when the closed channel's pipeline is torn down
    stats.closed(this, System.nanoTime() - startNanos);
  }

  /** Sets (or, with null, clears: the connection became HTTP/2 or a tunnel) the connection's read observer. */
  public void observe(@Nullable ReadObserver o) {
    observer = o;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b) {
      stats.rx.add(b.readableBytes());
    }
    ReadObserver o = observer;
    if (o == null) {
      ctx.fireChannelRead(msg);
      return;
    }
    long outer = LoopClock.enter(); // one clock read for everything these bytes lead to
    try {
      o.bytesArrived();
      ctx.fireChannelRead(msg);
    } finally {
      LoopClock.exit(outer);
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    long n = msg instanceof ByteBuf b ? b.readableBytes()
        : msg instanceof ByteBufHolder h ? h.content().readableBytes()
        : msg instanceof FileRegion f ? f.count() - f.transferred() : 0;
    if (n > 0) {
      stats.tx.add(n);
    }
    ctx.write(msg, promise);
  }

  /**
   * What the socket has not yet taken, as Netty counts its outbound buffer (ciphertext on a TLS connection). Read
   * from the stats reader's thread: the buffer's total is volatile.
   */
  long unsentBytes() {
    Channel ch = channel;
    ChannelOutboundBuffer out = ch == null ? null : ch.unsafe().outboundBuffer();
    return out == null ? 0 : out.totalPendingWriteBytes();
  }
}
