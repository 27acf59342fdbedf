package io.bowline.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.jspecify.annotations.Nullable;

/**
 * The buffer an HTTP/1.1 codec writes message heads into, kept from one message to the next. The codec holds one
 * reference and each write another; the kernel takes a head as it is flushed, so by the next message the write's
 * reference is gone ({@code refCnt() == 1}) and the same buffer is filled again, still in cache, instead of a pooled
 * buffer being allocated and freed per message. A head written while an earlier one is still queued (pipelined
 * responses before a flush, a full socket) gets a buffer of its own.
 */
public final class HeadBuffer {
  /** A buffer that grew past this for one large head is not kept. */
  private static final int MAX_KEPT = 4096;
  private @Nullable ByteBuf kept;
  private int estimate = 256;

  /** An empty buffer for the next head, with one reference for the write it goes to. */
  public ByteBuf take(ByteBufAllocator alloc) {
    ByteBuf b = kept;
    if (b != null && b.refCnt() == 1 && b.capacity() <= MAX_KEPT) {
      return b.clear().retain();
    }
    if (b != null) {
      b.release(); // a write still holds it: freed once written
    }
    b = alloc.ioBuffer(estimate);
    kept = b;
    return b.retain();
  }

  /** The head just written: a fresh buffer is sized for the next one like it. */
  public void wrote(ByteBuf head) {
    estimate = nextEstimate(estimate, head);
  }

  /** The size to start the next head's buffer at, after {@code head} (an estimate that follows the heads written). */
  public static int nextEstimate(int estimate, ByteBuf head) {
    return Math.max(128, (estimate + head.readableBytes() + 64) / 2);
  }

  /** The connection is done: the codec's reference goes (a queued write keeps its own). */
  public void release() {
    if (kept != null) {
      kept.release();
      kept = null;
    }
  }
}
