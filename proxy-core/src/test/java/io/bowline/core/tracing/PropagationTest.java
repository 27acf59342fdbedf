package io.bowline.core.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The context headers written for the upstream, digit by digit, and what a caller's headers are read as. */
class PropagationTest {
  @Test
  void w3cTraceparentIsWrittenOnceWhetherTheClientSentOneOrNot() {
    HttpHeaders fresh = new DefaultHttpHeaders();
    assertFalse(Propagation.W3C.carried(fresh));
    Propagation.W3C.inject(0x0123456789abcdefL, 0xfedcba9876543210L, 0x00000000000000ffL, "", true, "", fresh,
        false);
    assertEquals(List.of("00-0123456789abcdeffedcba9876543210-00000000000000ff-01"), fresh.getAll("traceparent"));

    HttpHeaders carried = new DefaultHttpHeaders();
    carried.add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertTrue(Propagation.W3C.carried(carried));
    var parent = Propagation.W3C.extract(carried);
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", parent.getTraceId());
    assertEquals("00f067aa0ba902b7", parent.getSpanId());
    Propagation.W3C.inject(0x4bf92f3577b34da6L, 0xa3ce929d0e0e4736L, 0x8000000000000001L, "", false, "k=v", carried,
        true);
    assertEquals(List.of("00-4bf92f3577b34da6a3ce929d0e0e4736-8000000000000001-00"), carried.getAll("traceparent"));
    assertEquals("k=v", carried.get("tracestate"));

    HttpHeaders invalid = new DefaultHttpHeaders();
    invalid.add("traceparent", "not-a-trace");
    assertTrue(Propagation.W3C.carried(invalid));
    assertNull(Propagation.W3C.extract(invalid));
  }

  @Test
  void b3IsWrittenAsMultiHeadersReplacingTheSingleForm() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.add("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
    assertTrue(Propagation.B3.carried(h));
    Propagation.B3.inject(0L, 0x00000000000000abL, 0x1000000000000000L, "e457b5a2e4d86bd1", true, "", h, true);
    assertNull(h.get("b3"));
    assertEquals("000000000000000000000000000000ab", h.get("x-b3-traceid"));
    assertEquals("1000000000000000", h.get("x-b3-spanid"));
    assertEquals("e457b5a2e4d86bd1", h.get("x-b3-parentspanid"), "the injected span's parent: the caller's span");
    assertEquals("1", h.get("x-b3-sampled"));
  }

  @Test
  void aCallersB3ParentIsNotPassedOnForARootSpan() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.add("x-b3-traceid", "zz"); // invalid: this proxy starts a root span
    h.add("x-b3-parentspanid", "00000000000000aa");
    Propagation.B3.inject(0L, 0x1L, 0x2L, "", false, "", h, true);
    assertNull(h.get("x-b3-parentspanid"));
    assertEquals("0", h.get("x-b3-sampled"));
  }
}
