package io.bowline.core.tracing;

/** A configured tracing provider: how context travels and where finished spans go. */
public record Tracer(String name, Propagation propagation, SpanExporter exporter, boolean traceId128) {}
