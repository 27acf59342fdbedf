package io.bowline.core.tracing;

import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import org.jspecify.annotations.Nullable;

/**
 * How trace context travels in headers: W3C {@code traceparent}/{@code tracestate} (Envoy's OpenTelemetry tracer)
 * or B3 (Envoy's Zipkin tracer: read from the multi-header form or the single {@code b3} header, written as
 * multi-headers). A caller's context is read through OpenTelemetry's own propagators; this proxy's is written by
 * hand, as the same headers those propagators write.
 */
public enum Propagation {
  W3C(W3CTraceContextPropagator.getInstance()),
  B3(B3Propagator.injectingMultiHeaders());

  private final TextMapPropagator propagator;

  Propagation(TextMapPropagator propagator) {
    this.propagator = propagator;
  }

  private static final TextMapGetter<HttpHeaders> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(HttpHeaders carrier) {
      return carrier.names();
    }

    @Override
    public @Nullable String get(@Nullable HttpHeaders carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private static final io.netty.util.AsciiString TRACEPARENT = io.netty.util.AsciiString.cached("traceparent");
  private static final io.netty.util.AsciiString B3_SINGLE = io.netty.util.AsciiString.cached("b3");
  private static final io.netty.util.AsciiString B3_TRACE_ID = io.netty.util.AsciiString.cached("x-b3-traceid");
  private static final io.netty.util.AsciiString B3_SPAN_ID = io.netty.util.AsciiString.cached("x-b3-spanid");
  private static final io.netty.util.AsciiString B3_PARENT_SPAN_ID =
      io.netty.util.AsciiString.cached("x-b3-parentspanid");
  private static final io.netty.util.AsciiString B3_SAMPLED = io.netty.util.AsciiString.cached("x-b3-sampled");
  private static final io.netty.util.AsciiString TRACESTATE = io.netty.util.AsciiString.cached("tracestate");
  private static final io.netty.util.AsciiString ONE = io.netty.util.AsciiString.cached("1");
  private static final io.netty.util.AsciiString ZERO = io.netty.util.AsciiString.cached("0");

  /** Whether the request carries trace context headers of this propagation (valid or not). */
  public boolean carried(HttpHeaders headers) {
    return this == W3C ? headers.contains(TRACEPARENT)
        : headers.contains(B3_SINGLE) || headers.contains(B3_TRACE_ID);
  }

  /**
   * The caller's span context, or null when the request carries an invalid one; call it only when
   * {@link #carried} (most requests start a trace here: no propagator work for them).
   */
  public @Nullable SpanContext extract(HttpHeaders headers) {
    SpanContext c = Span.fromContext(propagator.extract(Context.root(), headers, GETTER)).getSpanContext();
    return c.isValid() ? c : null;
  }

  /**
   * Writes this proxy's span as the parent of the upstream request (replacing what the client sent, when it
   * {@link #carried} some), formatted by hand: it is the one piece of tracing every request pays for, sampled or not.
   */
  public void inject(long traceIdHigh, long traceIdLow, long spanId, String parentSpanId, boolean sampled,
      String traceState, HttpHeaders headers, boolean carried) {
    if (this == W3C) {
      byte[] b = new byte[55]; // version-traceid-parentid-flags
      b[0] = '0';
      b[1] = '0';
      b[2] = '-';
      hex(traceIdHigh, b, 3);
      hex(traceIdLow, b, 19);
      b[35] = '-';
      hex(spanId, b, 36);
      b[52] = '-';
      b[53] = '0';
      b[54] = sampled ? (byte) '1' : (byte) '0';
      io.netty.util.AsciiString traceparent = new io.netty.util.AsciiString(b, false);
      if (carried) {
        headers.set(TRACEPARENT, traceparent);
      } else {
        headers.add(TRACEPARENT, traceparent); // nothing to replace: no removal pass over the headers
      }
      if (!traceState.isEmpty()) {
        headers.set(TRACESTATE, traceState);
      }
    } else {
      headers.remove(B3_SINGLE); // one form only: the multi-headers
      byte[] t = new byte[32];
      hex(traceIdHigh, t, 0);
      hex(traceIdLow, t, 16);
      byte[] s = new byte[16];
      hex(spanId, s, 0);
      headers.set(B3_TRACE_ID, new io.netty.util.AsciiString(t, false));
      headers.set(B3_SPAN_ID, new io.netty.util.AsciiString(s, false));
      if (!parentSpanId.isEmpty()) { // the injected span's own parent, as Envoy's Zipkin tracer writes it
        headers.set(B3_PARENT_SPAN_ID, parentSpanId);
      } else if (carried) {
        headers.remove(B3_PARENT_SPAN_ID); // a caller's: the parent of its span, not of this one
      }
      headers.set(B3_SAMPLED, sampled ? ONE : ZERO);
    }
  }

  /** Each byte's two lower-case hex digits. */
  private static final byte[] PAIRS = new byte[512];

  static {
    byte[] digits = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (int i = 0; i < 256; i++) {
      PAIRS[2 * i] = digits[i >>> 4];
      PAIRS[2 * i + 1] = digits[i & 0xf];
    }
  }

  /** Sixteen lower-case hex digits of {@code v} at {@code at}, a byte (two digits) per step. */
  private static void hex(long v, byte[] into, int at) {
    for (int i = at + 14; i >= at; i -= 2) {
      int b = (int) (v & 0xff) << 1;
      into[i] = PAIRS[b];
      into[i + 1] = PAIRS[b + 1];
      v >>>= 8;
    }
  }
}
