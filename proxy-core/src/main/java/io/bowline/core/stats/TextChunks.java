package io.bowline.core.stats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.stream.ChunkedInput;
import org.jspecify.annotations.Nullable;

/**
 * An admin page's text made a chunk at a time, as the connection takes it (Netty's {@code ChunkedWriteHandler} asks):
 * a subclass appends the next ~64 KB of characters per call, so a mesh-sized page never exists whole.
 */
abstract class TextChunks implements ChunkedInput<ByteBuf> {
  static final int CHUNK = 64 * 1024;

  private boolean ended;
  private long progress;

  /** Appends the text that follows, until {@code sb} holds at least {@link #CHUNK} characters or the text ends. */
  abstract boolean fill(StringBuilder sb);

  @Override
  public final boolean isEndOfInput() {
    return ended;
  }

  @Override
  public final void close() {}

  @Deprecated
  @Override
  public final ByteBuf readChunk(io.netty.channel.ChannelHandlerContext ctx) {
    return readChunk(ctx.alloc());
  }

  @Override
  public final @Nullable ByteBuf readChunk(ByteBufAllocator alloc) {
    if (ended) {
      return null;
    }
    StringBuilder sb = new StringBuilder(CHUNK + 4096);
    ended = fill(sb);
    ByteBuf buf = alloc.buffer(ByteBufUtil.utf8MaxBytes(sb));
    ByteBufUtil.writeUtf8(buf, sb);
    progress += buf.readableBytes();
    return buf;
  }

  @Override
  public final long length() {
    return -1;
  }

  @Override
  public final long progress() {
    return progress;
  }

  /** The whole text as one string: for tests and small stores (the admin endpoints stream it). */
  final String drain() {
    StringBuilder sb = new StringBuilder(16384);
    while (!ended) {
      ByteBuf b = readChunk(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
      if (b != null) {
        sb.append(b.toString(java.nio.charset.StandardCharsets.UTF_8));
        b.release();
      }
    }
    return sb.toString();
  }
}
