package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The first bytes of a cleartext connection decide HTTP/2 (the preface) or HTTP/1.1, however they are split. */
class H2cPriorKnowledgeTest {
  private static final String PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

  /** What reached the handler after the detector, and how often the connection was switched to HTTP/2. */
  private static final class Outcome {
    final StringBuilder passed = new StringBuilder();
    final AtomicInteger switches = new AtomicInteger();
    EmbeddedChannel channel;
  }

  private static Outcome feed(String bytes, int pieceSize) {
    Outcome o = new Outcome();
    o.channel = new EmbeddedChannel();
    o.channel.pipeline().addLast(new H2cPriorKnowledge(o.switches::incrementAndGet),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            o.passed.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
          }
        });
    for (int i = 0; i < bytes.length(); i += pieceSize) {
      String piece = bytes.substring(i, Math.min(bytes.length(), i + pieceSize));
      o.channel.writeInbound(Unpooled.copiedBuffer(piece, StandardCharsets.ISO_8859_1));
    }
    return o;
  }

  @Test
  void thePrefaceSwitchesToHttp2AndIsPassedOnWhole() {
    String frames = PREFACE + "\u0000\u0000\u0000\u0004\u0000\u0000\u0000\u0000\u0000";
    for (int piece : new int[] {frames.length(), 1, 5, 24}) {
      Outcome o = feed(frames, piece);
      assertEquals(1, o.switches.get(), "pieces of " + piece);
      assertEquals(frames, o.passed.toString(), "pieces of " + piece);
      assertNull(o.channel.pipeline().get(H2cPriorKnowledge.class), "gone once it decided");
      o.channel.finishAndReleaseAll();
    }
  }

  @Test
  void anythingElseIsHttp1FromItsFirstDifferentByte() {
    for (String request : new String[] {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "POST / HTTP/1.1\r\nHost: a\r\n\r\n",
        "PRI / HTTP/1.1\r\nHost: a\r\n\r\n", "PRI * HTTP/1.1\r\nHost: a\r\n\r\n"}) {
      for (int piece : new int[] {request.length(), 1, 3}) {
        Outcome o = feed(request, piece);
        assertEquals(0, o.switches.get(), request);
        assertEquals(request, o.passed.toString(), request);
        assertNull(o.channel.pipeline().get(H2cPriorKnowledge.class));
        o.channel.finishAndReleaseAll();
      }
    }
  }
}
