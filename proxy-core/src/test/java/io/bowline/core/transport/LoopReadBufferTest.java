package io.bowline.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LoopReadBufferTest {
  private static final PooledByteBufAllocator POOLED = new PooledByteBufAllocator(true);

  /** Runs {@code body} on a thread of its own, as an event loop's, ending it (and its thread locals) after. */
  private static void onLoopThread(ThrowingBody body) throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t = new FastThreadLocalThread(() -> {
      try {
        body.run();
      } catch (Throwable e) {
        failure.set(e);
      } finally {
        FastThreadLocal.removeAll();
      }
    });
    t.start();
    t.join(10_000);
    assertFalse(t.isAlive(), "the loop thread's work did not end");
    if (failure.get() instanceof Exception e) {
      throw e;
    }
    if (failure.get() instanceof Error e) {
      throw e;
    }
  }

  interface ThrowingBody {
    void run() throws Exception;
  }

  @Test
  void aReadThatWasLetGoOfLeavesTheBufferForTheNext() throws Exception {
    onLoopThread(() -> {
      RecvByteBufAllocator.Handle reads = new LoopReadBuffer().newHandle();
      ByteBuf first = reads.allocate(POOLED);
      first.writeBytes(new byte[] {1, 2, 3});
      first.release();
      ByteBuf second = reads.allocate(POOLED);
      assertSame(first, second);
      assertEquals(0, second.readerIndex());
      assertEquals(0, second.writerIndex(), "handed out empty");
      assertEquals(LoopReadBuffer.CAPACITY, second.writableBytes());
      second.release();
    });
  }

  @Test
  void aBufferStillHeldIsNeverHandedOutAgain() throws Exception {
    onLoopThread(() -> {
      RecvByteBufAllocator.Handle reads = new LoopReadBuffer().newHandle();
      ByteBuf first = reads.allocate(POOLED);
      first.writeBytes("kept".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      ByteBuf body = first.retainedSlice(); // as a body waiting for a slow client holds it
      first.release();
      ByteBuf second = reads.allocate(POOLED);
      assertNotSame(first, second);
      second.writeBytes(new byte[] {9, 9, 9, 9});
      assertEquals("kept", body.toString(java.nio.charset.StandardCharsets.US_ASCII));
      body.release();
      second.release();
      ByteBuf third = reads.allocate(POOLED);
      assertSame(first, third, "free again once the slice let go");
      third.release();
    });
  }

  @Test
  void readsLargerThanTheBufferAndUnpooledAllocatorsTakeTheirOwn() throws Exception {
    onLoopThread(() -> {
      ByteBuf fromUnpooled = new LoopReadBuffer().newHandle().allocate(UnpooledByteBufAllocator.DEFAULT);
      ByteBuf next = new LoopReadBuffer().newHandle().allocate(UnpooledByteBufAllocator.DEFAULT);
      assertNotSame(fromUnpooled, next);
      fromUnpooled.release();
      next.release();

      RecvByteBufAllocator.Handle big = new LoopReadBuffer().newHandle();
      EmbeddedChannel channel = new EmbeddedChannel();
      big.reset(channel.config());
      channel.close();
      for (int i = 0; i < 8 && big.guess() <= LoopReadBuffer.CAPACITY; i++) { // reads that fill what was asked
        ByteBuf b = big.allocate(POOLED);
        big.attemptedBytesRead(b.writableBytes());
        big.lastBytesRead(b.writableBytes());
        b.release();
        big.readComplete();
      }
      assertTrue(big.guess() > LoopReadBuffer.CAPACITY, "the adaptive guess grew: " + big.guess());
      ByteBuf large = big.allocate(POOLED);
      assertTrue(large.writableBytes() > LoopReadBuffer.CAPACITY);
      large.release();
    });
  }

  @Test
  void theLoopsBufferIsReleasedWhenItsThreadEnds() throws Exception {
    AtomicReference<ByteBuf> held = new AtomicReference<>();
    onLoopThread(() -> {
      ByteBuf b = new LoopReadBuffer().newHandle().allocate(POOLED);
      b.release();
      held.set(b);
      assertEquals(1, b.refCnt());
    });
    assertEquals(0, held.get().refCnt());
  }
}
