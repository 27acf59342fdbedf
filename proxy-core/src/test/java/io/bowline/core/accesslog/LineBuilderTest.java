package io.bowline.core.accesslog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The bytes of a line: numbers, UTF-8 text, a client's bytes written back unchanged, escapes, and growth. */
class LineBuilderTest {
  private static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void numbersAreTheirDigits() {
    LineBuilder b = new LineBuilder();
    for (long n : new long[] {0, 7, 10, 99, 1024, 1_000_000_007L, Long.MAX_VALUE, -1, -1234, Long.MIN_VALUE}) {
      b.reset();
      b.number(n);
      assertEquals(Long.toString(n), b.toString());
    }
  }

  @Test
  void textIsUtf8AndAClientsBytesGoBackAsTheyCame() {
    LineBuilder b = new LineBuilder();
    b.utf8("outbound|80||café.default 😀", false);
    assertEquals("outbound|80||café.default 😀", b.toString(), "config text, surrogate pair included");
    b.reset();
    b.utf8("lone \ud800 surrogate", false);
    assertEquals("lone ? surrogate", b.toString());

    // "café" sent as UTF-8 is decoded by the codec one byte per character ("cafÃ©"); the log gets the sent bytes
    b.reset();
    b.wire(new String("café".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1), true);
    assertArrayEquals("café".getBytes(StandardCharsets.UTF_8), b.toByteArray());
    b.reset();
    b.wire("raw \u00e9 byte", true);
    assertArrayEquals(latin1("raw \u00e9 byte"), b.toByteArray(), "a byte that is not UTF-8 stays that byte");
    b.reset();
    b.wire("set by config: €", true);
    assertEquals("set by config: €", b.toString(), "a character no codec decodes is written as UTF-8");
  }

  @Test
  void controlCharactersAreEscapedWhereAsked() {
    LineBuilder b = new LineBuilder();
    b.wire("a\r\nb\u001b\u007fc\u00e9", true);
    assertArrayEquals(latin1("a\\x0d\\x0ab\\x1b\\x7fc\u00e9"), b.toByteArray());
    b.reset();
    b.utf8("x\ny\u2028", true);
    assertEquals("x\\x0ay\u2028", b.toString());
    b.reset();
    b.utf8("kept\n", false);
    assertEquals("kept\n", b.toString());
  }

  /** A codec's header value is a view of the request's bytes: copied as they are, escaped alike. */
  @Test
  void aCodecsBytesAreCopiedAndEscapedAsAStringsCharacters() {
    byte[] block = latin1("GET / HTTP/1.1\r\nuser-agent: cafÃ©\tx\r\nx: a\u007fb\r\n");
    LineBuilder b = new LineBuilder();
    b.wire(new io.netty.util.AsciiString(block, 28, 7, false), true); // "café" as UTF-8 bytes, a tab, "x"
    assertArrayEquals(latin1("cafÃ©\\x09x"), b.toByteArray());
    b.reset();
    b.wire(new io.netty.util.AsciiString(block, 28, 5, false), true);
    assertArrayEquals("café".getBytes(StandardCharsets.UTF_8), b.toByteArray(), "no escape: one copy");
    b.reset();
    b.wire(new io.netty.util.AsciiString(block, 40, 3, false), true);
    assertEquals("a\\x7fb", b.toString());
    b.reset();
    b.wire(new io.netty.util.AsciiString(block, 40, 3, false), false);
    assertArrayEquals(latin1("a\u007fb"), b.toByteArray(), "not escaping: as it came");
  }

  @Test
  void growsForLongLinesAndLetsTheBufferGoAfterOne() {
    LineBuilder b = new LineBuilder();
    String big = "x".repeat(40_000);
    b.wire(big, true);
    b.number(5);
    assertEquals(big + "5", b.toString());
    b.reset();
    assertEquals(0, b.length());
    b.bytes(latin1("after"));
    assertEquals("after", b.toString());
  }
}
