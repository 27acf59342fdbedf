package io.bowline.core.http;

import io.bowline.core.filter.ArrayHttpHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import org.jspecify.annotations.Nullable;

/**
 * The reading half both of bowline's HTTP/1.1 codecs share: bytes accumulate until a message's head is complete
 * ({@link #head}, the codec's own), then its body goes on as Netty's {@code HttpContent}s — by length, by chunks
 * with their trailers, or until the connection closes. A body that is the rest of a read is handed on as that
 * read's buffer, never sliced.
 */
public abstract class Http1Decoder extends ChannelDuplexHandler {
  private static final int MAX_CHUNK_LINE = 4096;

  /** Where the decoder is in the message: DONE reads nothing more (a refusal, a tunnel). */
  protected enum State { HEAD, FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, UNTIL_CLOSE, DONE }

  protected final Http1Syntax.BlockScanner blocks = new Http1Syntax.BlockScanner();
  /** What a head says about its body's length, reset for each head. */
  protected final Http1Syntax.Framing framing = new Http1Syntax.Framing();
  /** Fields allowed in a head or a trailer block (max_headers_count). */
  protected final int maxFields;
  private final int maxTrailerBytes;
  /** Envoy's {@code enable_trailers}: false drops a trailer block once it is read and checked. */
  private final boolean keepTrailers;
  protected @Nullable ByteBuf cumulation;
  protected State state = State.HEAD;
  /** Body bytes still to come: of a fixed-length body, or of the current chunk. */
  protected long remaining;

  /**
   * @param maxFields fields allowed in a head or a trailer block
   * @param maxTrailerBytes bytes allowed in a trailer block
   * @param keepTrailers whether a trailer block is passed on (Envoy's {@code enable_trailers}) or dropped
   */
  protected Http1Decoder(int maxFields, int maxTrailerBytes, boolean keepTrailers) {
    this.maxFields = maxFields;
    this.maxTrailerBytes = maxTrailerBytes;
    this.keepTrailers = keepTrailers;
  }

  /**
   * Decodes the head at {@code buf}'s reader index when it is complete, fires it, and sets {@link #state} for its
   * body; false when it must wait for more bytes or refused the head.
   */
  protected abstract boolean head(ChannelHandlerContext ctx, ByteBuf buf);

  /** Refuses the message whose body is being read: {@code reason} says why. */
  protected abstract void failBody(ChannelHandlerContext ctx, String reason);

  /** Passes a decoded message on. */
  protected void fire(ChannelHandlerContext ctx, Object msg) {
    ctx.fireChannelRead(msg);
  }

  /** Adds a read to what waits to be decoded. */
  protected final void accumulate(ChannelHandlerContext ctx, ByteBuf in) {
    ByteBuf cum = cumulation;
    if (cum == null) {
      cumulation = in;
      return;
    }
    int need = in.readableBytes();
    if (cum.refCnt() == 1 && !cum.isReadOnly() && cum.writableBytes() >= need) {
      cum.writeBytes(in);
      in.release();
      return;
    }
    ByteBuf merged = ctx.alloc().ioBuffer(cum.readableBytes() + need);
    merged.writeBytes(cum).writeBytes(in);
    cum.release();
    in.release();
    cumulation = merged;
  }

  protected final void releaseCumulation() {
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
  }

  /**
   * Decodes what {@link #cumulation} holds, firing each message as it is complete; what must wait for more bytes
   * stays there.
   */
  protected final void decode(ChannelHandlerContext ctx) {
    ByteBuf buf;
    while ((buf = cumulation) != null) {
      if (!buf.isReadable()) {
        cumulation = null;
        buf.release();
        return;
      }
      switch (state) {
        case HEAD -> {
          while (!blocks.started() && buf.readableBytes() >= 2 && buf.getShort(buf.readerIndex()) == 0x0d0a) {
            buf.skipBytes(2); // empty lines between messages, which RFC 9112 §2.2 lets a recipient ignore
          }
          if (buf.isReadable() && !head(ctx, buf)) {
            return;
          }
        }
        case FIXED, CHUNK_DATA, UNTIL_CLOSE -> {
          int n = buf.readableBytes();
          if (state == State.UNTIL_CLOSE || n < remaining) {
            remaining -= n;
            cumulation = null;
            fire(ctx, new DefaultHttpContent(buf)); // the rest of this read is all body: no slice
            return;
          }
          int k = (int) remaining;
          ByteBuf part;
          if (n == k) {
            part = buf;
            cumulation = null;
          } else {
            part = buf.readRetainedSlice(k);
          }
          remaining = 0;
          if (state == State.FIXED) {
            state = State.HEAD;
            fire(ctx, new DefaultLastHttpContent(part, Http1Syntax.NO_TRAILERS));
          } else {
            state = State.CHUNK_END;
            fire(ctx, new DefaultHttpContent(part));
          }
        }
        case CHUNK_SIZE -> {
          int lf = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) '\n');
          if (lf < 0) {
            if (buf.readableBytes() > MAX_CHUNK_LINE) {
              failBody(ctx, "chunk size line longer than " + MAX_CHUNK_LINE + " bytes");
            }
            return;
          }
          long size = Http1Syntax.chunkSize(buf, buf.readerIndex(), lf);
          if (size < 0) {
            failBody(ctx, "malformed chunk size line");
            return;
          }
          buf.readerIndex(lf + 1);
          remaining = size;
          state = size == 0 ? State.TRAILERS : State.CHUNK_DATA;
        }
        case CHUNK_END -> {
          if (buf.getByte(buf.readerIndex()) != '\r'
              || (buf.readableBytes() >= 2 && buf.getByte(buf.readerIndex() + 1) != '\n')) {
            failBody(ctx, "chunk data not followed by CRLF");
            return;
          }
          if (buf.readableBytes() < 2) {
            return;
          }
          buf.skipBytes(2);
          state = State.CHUNK_SIZE;
        }
        case TRAILERS -> {
          if (!trailers(ctx, buf)) {
            return;
          }
        }
        case DONE -> {
          cumulation = null; // after a refusal or a tunnel's head: the bytes belong to no message
          buf.release();
          return;
        }
        default -> throw new IllegalStateException(state.name());
      }
      if (ctx.isRemoved()) {
        return; // handlerRemoved took what is left
      }
    }
  }

  private boolean trailers(ChannelHandlerContext ctx, ByteBuf buf) {
    int end = blocks.end(buf, false);
    if (end == -2) {
      failBody(ctx, "bare LF in the trailers");
      return false;
    }
    if (end == -1 || end > maxTrailerBytes) {
      if (end > maxTrailerBytes || buf.readableBytes() > maxTrailerBytes) {
        failBody(ctx, "trailers larger than " + maxTrailerBytes + " bytes");
      }
      return false;
    }
    LastHttpContent last;
    if (end == 2) {
      buf.skipBytes(2);
      last = LastHttpContent.EMPTY_LAST_CONTENT;
    } else {
      byte[] block = new byte[end];
      buf.readBytes(block);
      ArrayHttpHeaders fields = new ArrayHttpHeaders();
      String problem = Http1Syntax.parseFields(block, 0, fields, null, maxFields);
      if (problem != null) {
        failBody(ctx, problem);
        return false;
      }
      last = keepTrailers ? new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, fields)
          : LastHttpContent.EMPTY_LAST_CONTENT;
    }
    state = State.HEAD;
    fire(ctx, last);
    return true;
  }
}
