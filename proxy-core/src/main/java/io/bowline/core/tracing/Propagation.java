package io.bowline.core.tracing;

import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import org.jspecify.annotations.Nullable;

/**
 * How trace context travels in headers: W3C {@code traceparent}/{@code tracestate} (Envoy's OpenTelemetry tracer)
 * or B3 (Envoy's Zipkin tracer: read from the multi-header form or the single {@code b3} header, written as
 * multi-headers), both through OpenTelemetry's own propagators.
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

  private static final TextMapSetter<HttpHeaders> SETTER = (carrier, key, value) -> {
    if (carrier != null) {
      carrier.set(key, value);
    }
  };

  private static final io.netty.util.AsciiString TRACEPARENT = io.netty.util.AsciiString.cached("traceparent");
  private static final io.netty.util.AsciiString B3_SINGLE = io.netty.util.AsciiString.cached("b3");
  private static final io.netty.util.AsciiString B3_TRACE_ID = io.netty.util.AsciiString.cached("x-b3-traceid");

  /** The caller's span context, or null when the request carries none (or an invalid one). */
  public @Nullable SpanContext extract(HttpHeaders headers) {
    boolean present = this == W3C ? headers.contains(TRACEPARENT)
        : headers.contains(B3_SINGLE) || headers.contains(B3_TRACE_ID);
    if (!present) {
      return null; // most requests start a trace here: no propagator work for them
    }
    SpanContext c = Span.fromContext(propagator.extract(Context.root(), headers, GETTER)).getSpanContext();
    return c.isValid() ? c : null;
  }

  /** Writes {@code span} as the parent of the upstream request (replacing what the client sent). */
  public void inject(String traceId, String spanId, boolean sampled, TraceState state, HttpHeaders headers) {
    if (this == B3) {
      headers.remove("b3"); // one form only: the multi-headers written below
    }
    SpanContext c = SpanContext.create(traceId, spanId, sampled ? TraceFlags.getSampled() : TraceFlags.getDefault(),
        state);
    propagator.inject(Context.root().with(Span.wrap(c)), headers, SETTER);
  }
}
