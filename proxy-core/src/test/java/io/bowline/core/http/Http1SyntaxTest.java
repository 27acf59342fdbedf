package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.bowline.core.filter.ArrayHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Header-field parsing byte by byte against RFC 9110's rules, where the parser reads a value eight bytes at a time
 * and finds a common name by its first four bytes: every byte value at every place of values long enough for the
 * wide path, at every alignment, and names at the array's very end.
 */
class Http1SyntaxTest {
  private static HttpHeaders parse(String block, String expectedProblem) {
    ArrayHttpHeaders headers = new ArrayHttpHeaders();
    byte[] h = block.getBytes(StandardCharsets.ISO_8859_1);
    assertEquals(expectedProblem, Http1Syntax.parseFields(h, 0, headers, null, 100), block);
    return headers;
  }

  /** What RFC 9110 §5.5 makes of one byte inside a field value: null if it may stand there, else the refusal. */
  private static String verdict(int b) {
    if (b == '\r') {
      return "bare CR in a header line"; // the line ends there, and what follows is not LF
    }
    boolean allowed = b == '\t' || (b >= 0x20 && b != 0x7f) || b >= 0x80;
    return allowed ? null : "control character in a header value";
  }

  @Test
  void everyByteAtEveryPlaceOfAValueAtEveryAlignment() {
    for (int pad = 0; pad < 8; pad++) {
      String before = "P: " + "p".repeat(pad) + "\r\n";
      for (int length = 1; length <= 19; length++) {
        for (int at = 0; at < length; at++) {
          for (int b = 0; b < 256; b++) {
            char[] value = "v".repeat(length).toCharArray();
            value[at] = (char) b;
            String v = new String(value);
            String problem = verdict(b);
            HttpHeaders headers = parse(before + "X-A: " + v + "\r\nX-B: b\r\n\r\n", problem);
            if (problem == null) {
              assertEquals(v.replaceAll("^[ \t]+|[ \t]+$", ""), headers.get("x-a"),
                  "byte " + b + " at " + at + " of " + length);
              assertEquals("b", headers.get("x-b"));
            }
          }
        }
      }
    }
  }

  @Test
  void valuesLoseTheirOuterWhitespaceAndKeepTheInnerAndObsText() {
    HttpHeaders headers = parse(
        "A: \t  x \t y\u00ff\u0080z  \t \r\nB:\r\nC:    \t\r\nD: 12345678901234567890\t\r\n\r\n", null);
    assertEquals("x \t y\u00ff\u0080z", headers.get("a"));
    assertEquals("", headers.get("b"));
    assertEquals("", headers.get("c"));
    assertEquals("12345678901234567890", headers.get("d"));
  }

  @Test
  void commonNamesAreTheSharedConstantsWhateverTheirCase() {
    List<AsciiString> common = List.of(HttpHeaderNames.HOST, HttpHeaderNames.TE, HttpHeaderNames.DATE,
        HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_ENCODING,
        HttpHeaderNames.ACCEPT, HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.ACCEPT_LANGUAGE,
        HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, ProxyHeaders.X_REQUEST_ID,
        ProxyHeaders.X_ENVOY_UPSTREAM_SERVICE_TIME, ProxyHeaders.X_FORWARDED_FOR, ProxyHeaders.X_FORWARDED_PROTO);
    for (AsciiString name : common) {
      String upper = name.toString().toUpperCase(java.util.Locale.ROOT);
      HttpHeaders headers = parse(upper + ": v\r\n" + name + ": w\r\n\r\n", null);
      headers.iteratorCharSequence().forEachRemaining(e -> assertSame(name, e.getKey(), upper));
    }
    // the same first four bytes, last byte and length as a common name, or a prefix of one: new names
    for (Map.Entry<String, AsciiString> near : Map.of("accept-encodinh", HttpHeaderNames.ACCEPT_ENCODING,
        "contenu-length", HttpHeaderNames.CONTENT_LENGTH, "hos", HttpHeaderNames.HOST,
        "t", HttpHeaderNames.TE).entrySet()) {
      HttpHeaders headers = parse(near.getKey() + ": v\r\n\r\n", null);
      CharSequence parsed = headers.iteratorCharSequence().next().getKey();
      assertEquals(near.getKey(), parsed.toString());
      assertNotSame(near.getValue(), parsed);
    }
  }

  @Test
  void shortNamesAtTheEndOfTheArray() {
    for (String name : List.of("a", "te", "via", "x-a")) {
      HttpHeaders headers = parse(name + ":\r\n\r\n", null);
      assertEquals("", headers.get(name));
      assertNull(headers.get(name + "x"));
    }
  }

  /** The same answer as Netty's HttpUtil.isKeepAlive, which it replaced on both codecs' paths. */
  @Test
  void keepAliveAnswersAsNettyDoes() {
    List<List<String>> connections = List.of(List.of(), List.of("keep-alive"), List.of("Keep-Alive"), List.of("close"),
        List.of("CLOSE"), List.of(" close "), List.of("upgrade, close"), List.of("keep-alive, close"),
        List.of("keep-alive", "close"), List.of("te, keep-alive"), List.of(""), List.of(","), List.of("closed"),
        List.of("xclose"), List.of("keep-alive-x"), List.of("\tkeep-alive\t"), List.of("upgrade"),
        List.of("close,keep-alive"), List.of(" , keep-alive ,"));
    for (io.netty.handler.codec.http.HttpVersion version : List.of(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
        io.netty.handler.codec.http.HttpVersion.HTTP_1_0)) {
      for (List<String> values : connections) {
        StringBuilder block = new StringBuilder();
        for (String v : values) {
          block.append("Connection: ").append(v).append("\r\n");
        }
        // parsed values share the block's array, as a codec's do: the case Netty's trim allocates for
        var parsed = new io.netty.handler.codec.http.DefaultHttpResponse(version,
            io.netty.handler.codec.http.HttpResponseStatus.OK, parse(block.append("\r\n").toString(), null));
        assertEquals(io.netty.handler.codec.http.HttpUtil.isKeepAlive(parsed), Http1Syntax.keepAlive(parsed),
            version + " " + values);
      }
    }
  }
}
