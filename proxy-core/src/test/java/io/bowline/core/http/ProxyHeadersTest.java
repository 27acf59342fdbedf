package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

/** Hop-by-hop stripping (RFC 9110 §7.6.1): the fixed names, and every field a Connection option names. */
class ProxyHeadersTest {
  @Test
  void connectionKeepAliveGoesWithItsField() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.add("Connection", new AsciiString("Keep-Alive"));
    h.add("Keep-Alive", "timeout=5");
    h.add("Server", "x");
    ProxyHeaders.stripHopByHop(h, false);
    assertEquals(1, h.size());
    assertEquals("x", h.get("server"));
  }

  @Test
  void everyFieldAnyConnectionLineNamesIsRemoved() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.add("Connection", "keep-alive");
    h.add("Connection", "close, X-Foo");
    h.add("X-Foo", "1");
    h.add("Close", "odd but named");
    h.add("X-Kept", "2");
    ProxyHeaders.stripHopByHop(h, false);
    assertFalse(h.contains("x-foo"));
    assertFalse(h.contains("close"));
    assertFalse(h.contains("connection"));
    assertTrue(h.contains("x-kept"));
  }

  @Test
  void upgradeStaysWhenAsked() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.add("Connection", "Upgrade");
    h.add("Upgrade", "websocket");
    h.add("Transfer-Encoding", "chunked");
    h.add("TE", "trailers, deflate");
    ProxyHeaders.stripHopByHop(h, true);
    assertEquals("websocket", h.get("upgrade"));
    assertFalse(h.contains("transfer-encoding"));
    assertEquals("trailers", h.get("te"));
  }
}
