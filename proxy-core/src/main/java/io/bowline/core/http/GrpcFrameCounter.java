package io.bowline.core.http;

import io.netty.buffer.ByteBuf;

/**
 * Counts gRPC messages in one direction of a stream's body (5-byte prefix: compressed flag and 4-byte length),
 * across chunk boundaries, without copying: Istio's {@code istio_request_messages_total} and
 * {@code istio_response_messages_total}.
 */
final class GrpcFrameCounter {
  private long messages;
  private int headerRead; // bytes of the current 5-byte prefix seen so far
  private long length; // the current message's length, assembled from the prefix
  private long remaining; // body bytes of the current message still to skip

  void accept(ByteBuf chunk) {
    int i = chunk.readerIndex();
    int end = chunk.writerIndex();
    while (i < end) {
      if (remaining > 0) {
        int skip = (int) Math.min(remaining, end - i);
        i += skip;
        remaining -= skip;
        continue;
      }
      byte b = chunk.getByte(i++);
      if (headerRead > 0) {
        length = (length << 8) | (b & 0xff);
      }
      if (++headerRead == 5) {
        messages++;
        remaining = length;
        headerRead = 0;
        length = 0;
      }
    }
  }

  long messages() {
    return messages;
  }
}
