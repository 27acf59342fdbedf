package io.bowline.core.filter;

import com.google.protobuf.Struct;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * What a filter may know about where it runs: the listener's {@code traffic_direction} (Istio's sidecars mark their
 * outbound and inbound listeners with it), this proxy's node id and metadata, and the registry of the mesh metrics
 * that are served on {@code /stats/prometheus}.
 */
public record ListenerContext(Direction direction, String nodeId, Struct nodeMetadata,
    PrometheusMeterRegistry meters) {
  /** {@code config.core.v3.TrafficDirection}. */
  public enum Direction { UNSPECIFIED, INBOUND, OUTBOUND }

  public static final ListenerContext UNKNOWN = new ListenerContext(Direction.UNSPECIFIED, "",
      Struct.getDefaultInstance(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
}
