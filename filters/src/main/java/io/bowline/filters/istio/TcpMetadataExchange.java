package io.bowline.filters.istio;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's side of Istio's TCP metadata exchange: writes this proxy's preamble as soon as it joins the
 * pipeline, then reads the peer's off the front of the stream and leaves the pipeline, passing on what follows. A
 * stream that does not start with the magic number is passed on untouched (a peer without the exchange); a preamble
 * claiming more than {@value #MAX_PREAMBLE} bytes closes the connection.
 */
final class TcpMetadataExchange extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(TcpMetadataExchange.class);
  static final int MAGIC = 0x3D230467;
  static final int MAX_PREAMBLE = 64 * 1024;
  static final String METADATA = "x-envoy-peer-metadata";
  static final String METADATA_ID = "x-envoy-peer-metadata-id";

  private final byte[] preamble;
  private @Nullable CompositeByteBuf pending;

  TcpMetadataExchange(byte[] preamble) {
    this.preamble = preamble;
  }

  /** The bytes that open a stream: magic, length, and the Any holding {@code data}. */
  static byte[] preamble(Struct data) {
    byte[] any = Any.pack(data).toByteArray();
    return ByteBuffer.allocate(8 + any.length).putInt(MAGIC).putInt(any.length).put(any).array();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(Unpooled.wrappedBuffer(preamble));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (pending == null) {
      pending = ctx.alloc().compositeBuffer();
    }
    pending.addComponent(true, in);
    int start = pending.readerIndex();
    if (!magicSoFar(pending, start)) { // decided on the first byte that differs, not after eight
      LOG.debug("[{}] no metadata exchange preamble from the peer: passing the stream on", ctx.channel().id());
      done(ctx, 0);
      return;
    }
    if (pending.readableBytes() < 8) {
      return;
    }
    if (pending.getInt(start) != MAGIC) {
      LOG.debug("[{}] no metadata exchange preamble from the peer: passing the stream on", ctx.channel().id());
      done(ctx, 0);
      return;
    }
    long size = pending.getUnsignedInt(start + 4);
    if (size > MAX_PREAMBLE) {
      LOG.warn("[{}] a metadata exchange preamble of {} bytes (over {}): closing", ctx.channel().id(), size,
          MAX_PREAMBLE);
      ctx.close();
      return;
    }
    if (pending.readableBytes() < 8 + size) {
      return;
    }
    byte[] body = new byte[(int) size];
    pending.getBytes(start + 8, body);
    try {
      Any any = Any.parseFrom(body);
      if (any.is(Struct.class)) {
        var metadata = any.unpack(Struct.class).getFieldsMap().get(METADATA);
        if (metadata != null && metadata.hasStructValue()) {
          ctx.channel().attr(io.bowline.core.filter.ConnectionInfo.PEER_METADATA).set(metadata.getStructValue());
        }
      }
    } catch (InvalidProtocolBufferException e) {
      LOG.debug("[{}] an unreadable metadata exchange preamble: {}", ctx.channel().id(), e.getMessage());
    }
    done(ctx, 8 + (int) size);
  }

  /** Whether the bytes read so far (up to four) agree with the magic number. */
  private static boolean magicSoFar(ByteBuf b, int start) {
    int n = Math.min(4, b.readableBytes());
    for (int i = 0; i < n; i++) {
      if (b.getByte(start + i) != (byte) (MAGIC >>> (24 - 8 * i))) {
        return false;
      }
    }
    return true;
  }

  /** Skips the preamble, passes on the rest, and leaves. */
  private void done(ChannelHandlerContext ctx, int skip) {
    CompositeByteBuf rest = pending;
    pending = null;
    ctx.pipeline().remove(this);
    rest.skipBytes(skip);
    if (rest.isReadable()) {
      ctx.fireChannelRead(rest);
      ctx.fireChannelReadComplete();
    } else {
      rest.release();
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (pending != null) {
      ReferenceCountUtil.release(pending);
      pending = null;
    }
  }
}
