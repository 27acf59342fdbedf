package io.bowline.core.config;

/**
 * How a connection manager treats {@code x-request-id}: {@code generate_request_id}, {@code
 * preserve_external_request_id}, {@code always_set_request_id_in_response}, and its {@code request_id_extension}
 * (Envoy's UUID one, the only kind: {@code pack_trace_reason} and {@code use_request_id_for_trace_sampling}).
 */
public record RequestIdConfig(boolean generate, boolean preserveExternal, boolean alwaysSetInResponse,
    boolean packTraceReason, boolean useForTraceSampling) {}
