package io.bowline.core.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.bowline.core.filter.RequestIds.TraceReason;
import org.junit.jupiter.api.Test;

class RequestIdsTest {
  private static final String FRESH = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

  @Test
  void theIdsNumberIsItsFirstEightHexDigits() {
    assertEquals(0x1b4e28baL, RequestIds.integer(FRESH));
    assertEquals(0xABCDEF01L, RequestIds.integer("ABCDEF01"), "either case, as strtoull reads hex");
    assertEquals(0xffffffffL, RequestIds.integer("ffffffff-and-anything"));
    assertEquals(-1, RequestIds.integer("1b4e28b"), "too short");
    assertEquals(-1, RequestIds.integer("rid-0001-x"), "not hex");
    assertEquals(-1, RequestIds.integer(null));
  }

  @Test
  void traceReasonsLiveInTheVersionDigit() {
    assertEquals(TraceReason.NOT_TRACEABLE, RequestIds.traceReason(FRESH));
    for (TraceReason r : TraceReason.values()) {
      CharSequence packed = RequestIds.withTraceReason(FRESH, r);
      assertEquals(r, RequestIds.traceReason(packed), packed.toString());
      assertEquals(FRESH, RequestIds.withTraceReason(packed, TraceReason.NOT_TRACEABLE).toString(), "cleared to 4");
    }
    assertEquals("1b4e28ba-2fa1-91d2-883f-0016d3cca427",
        RequestIds.withTraceReason(FRESH, TraceReason.SAMPLING).toString());
    assertSame(FRESH, RequestIds.withTraceReason(FRESH, TraceReason.NOT_TRACEABLE), "unchanged: the same value");
    String v7 = "1b4e28ba-2fa1-71d2-883f-0016d3cca427";
    assertSame(v7, RequestIds.withTraceReason(v7, TraceReason.NOT_TRACEABLE), "a digit that is no reason stays");
    assertSame("short-9", RequestIds.withTraceReason("short-9", TraceReason.SAMPLING), "not a UUID's length");
    assertEquals(TraceReason.NOT_TRACEABLE, RequestIds.traceReason("1b4e28ba-2fa1-91d2-883f-0016d3cca42"));
  }

  @Test
  void freshIdsAreVersionFour() {
    for (int i = 0; i < 100; i++) {
      String id = RequestIds.uuid();
      assertEquals('4', id.charAt(14), id);
      assertEquals(TraceReason.NOT_TRACEABLE, RequestIds.traceReason(id));
    }
  }
}
