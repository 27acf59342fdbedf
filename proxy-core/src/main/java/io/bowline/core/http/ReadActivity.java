package io.bowline.core.http;

import io.bowline.core.transport.LoopClock;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits before the HTTP/1 decoder. It marks activity (so a partial request, slowloris, has a start for
 * request_headers_timeout), and it checks what Netty's decoder tolerates but RFC 9112 forbids in a request head:
 * a bare LF line ending, obs-fold continuation lines, and a request line whose parts are not separated by exactly
 * one SP. Only the head of a request is scanned, never its body.
 */
final class ReadActivity extends ChannelInboundHandlerAdapter {
  private final Http1ServerHandler handler;

  ReadActivity(Http1ServerHandler handler) {
    this.handler = handler;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    long outer = LoopClock.enter(); // one clock read for everything these bytes lead to
    try {
      boolean headStart = handler.bytesArrived();
      if (headStart && msg instanceof ByteBuf buf && !headIsWellFormed(buf)) {
        buf.release();
        handler.malformedHead();
        return;
      }
      ctx.fireChannelRead(msg);
    } finally {
      LoopClock.exit(outer);
    }
  }

  /** Scans from the start of a request head to its blank line (or the end of what has arrived). */
  static boolean headIsWellFormed(ByteBuf b) {
    int start = b.readerIndex();
    int end = b.writerIndex();
    int spaces = 0;
    boolean firstLine = true;
    byte prev2 = 0;
    byte prev = 0;
    for (int i = start; i < end; i++) {
      byte c = b.getByte(i);
      if (firstLine) {
        if (c == ' ') {
          if (prev == ' ' || i == start) {
            return false;
          }
          spaces++;
        } else if (c == '\t') {
          return false;
        }
      }
      if (c == '\n') {
        if (prev != '\r') {
          return false; // bare LF
        }
        if (firstLine) {
          if (spaces != 2 || prev2 == ' ') {
            return false;
          }
          firstLine = false;
        } else if (prev2 == '\n') {
          return true; // end of the head: the body is not ours to scan
        }
        if (i + 1 < end) {
          byte next = b.getByte(i + 1);
          if (next == ' ' || next == '\t') {
            return false; // obs-fold
          }
        }
      }
      prev2 = prev;
      prev = c;
    }
    return true;
  }
}
