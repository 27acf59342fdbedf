package io.bowline.core.tracing;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An HCM's {@code tracing}, compiled: the provider, whether this listener's spans are egress (client) or ingress
 * (server), the three sampling rates in parts per million, the longest {@code http.url} tag, the custom tags, and
 * this node's id and zone (tagged on every span), and whether sampling draws from the x-request-id (Envoy's UUID
 * request-id extension's {@code use_request_id_for_trace_sampling}, on by default) or at random, and whether the
 * decision is packed into the id ({@code pack_trace_reason}, on by default), and whether each upstream attempt gets a
 * span of its own ({@code spawn_upstream_span}: this proxy is then a hop of its own, its downstream span a server one).
 */
public record TracingConfig(Tracer tracer, boolean egress, int clientPerMillion, int randomPerMillion,
    int overallPerMillion, int maxPathTagLength, List<CustomTag> customTags, String nodeId, @Nullable String zone,
    boolean samplingByRequestId, boolean packTraceReason, boolean spawnUpstreamSpan) {

  public TracingConfig {
    customTags = List.copyOf(customTags);
  }

  /** A route's {@code tracing}: sampling rates that override the HCM's (null: the HCM's) and more custom tags. */
  public record RouteTracing(@Nullable Integer clientPerMillion, @Nullable Integer randomPerMillion,
      @Nullable Integer overallPerMillion, List<CustomTag> customTags) {
    public RouteTracing {
      customTags = List.copyOf(customTags);
    }
  }
}
