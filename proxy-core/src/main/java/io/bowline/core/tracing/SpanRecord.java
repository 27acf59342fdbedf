package io.bowline.core.tracing;

import java.util.Map;

/**
 * One finished span as the exporters send it; built on the event loop when its stream ends, read by the exporter
 * thread. Ids are lower-case hex (32 and 16 characters); {@code parentSpanId} is empty for a root span.
 */
public record SpanRecord(String traceId, String spanId, String parentSpanId, String traceState, String name,
    boolean server, long startEpochNanos, long endEpochNanos, Map<String, String> attributes, boolean error) {}
