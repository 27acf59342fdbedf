package io.bowline.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.concurrent.FastThreadLocal;
import org.jspecify.annotations.Nullable;

/**
 * Reads into one buffer per event loop, used again by the next read on that loop once whatever the last read went
 * to has let go of it, instead of taking a buffer from the pool and giving it back for every read. A proxied request
 * is two reads (the request from the client, the response from the upstream), and each is nearly always done with
 * by the time the loop reads again: the request head parsed into headers, a response body written to the client in
 * the same turn. Anything that keeps the bytes (a decoder's unfinished head, a body waiting for a slow client) holds
 * a reference, so the next read sees the buffer taken and falls back to the pool, as it does for reads larger than
 * the buffer. Netty's adaptive sizing still decides how much to read.
 *
 * <p>For epoll and NIO, whose reads take the buffer from this allocator; io_uring manages its own.
 */
public final class LoopReadBuffer extends AdaptiveRecvByteBufAllocator {
  /** Reads up to this size (Netty's adaptive guess) go into the loop's buffer; larger ones into pooled buffers. */
  static final int CAPACITY = 16 * 1024;

  /** The loop's buffer: one reference is the loop's own, a second is the read's while its bytes are in use. */
  private static final FastThreadLocal<ByteBuf> HELD = new FastThreadLocal<>() {
    @Override
    protected void onRemoval(ByteBuf held) {
      held.release(); // the loop's thread is ending
    }
  };

  @Override
  public Handle newHandle() {
    return new ReuseHandle((ExtendedHandle) super.newHandle());
  }

  /** The loop's buffer, if this thread has one and no read is still using it; else null. */
  private static @Nullable ByteBuf take(ByteBufAllocator alloc) {
    ByteBuf held = HELD.get();
    if (held == null) {
      held = alloc.directBuffer(CAPACITY, CAPACITY);
      HELD.set(held);
    }
    if (held.refCnt() != 1) {
      return null;
    }
    return held.retain().clear();
  }

  private static final class ReuseHandle implements ExtendedHandle {
    private final ExtendedHandle sizes;

    ReuseHandle(ExtendedHandle sizes) {
      this.sizes = sizes;
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      if (sizes.guess() <= CAPACITY && alloc.isDirectBufferPooled()) {
        ByteBuf held = take(alloc);
        if (held != null) {
          return held;
        }
      }
      return sizes.allocate(alloc);
    }

    @Override
    public int guess() {
      return sizes.guess();
    }

    @Override
    public void reset(ChannelConfig config) {
      sizes.reset(config);
    }

    @Override
    public void incMessagesRead(int numMessages) {
      sizes.incMessagesRead(numMessages);
    }

    @Override
    public void lastBytesRead(int bytes) {
      sizes.lastBytesRead(bytes);
    }

    @Override
    public int lastBytesRead() {
      return sizes.lastBytesRead();
    }

    @Override
    public void attemptedBytesRead(int bytes) {
      sizes.attemptedBytesRead(bytes);
    }

    @Override
    public int attemptedBytesRead() {
      return sizes.attemptedBytesRead();
    }

    @Override
    public boolean continueReading() {
      return sizes.continueReading();
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return sizes.continueReading(maybeMoreDataSupplier);
    }

    @Override
    public void readComplete() {
      sizes.readComplete();
    }
  }
}
