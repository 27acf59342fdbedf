package io.bowline.core.filter;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The upstream clusters as a filter sees them: a filter that calls a service of its own (a rate-limit or an
 * authorization service) names a cluster in its config, checks it exists when compiled, and asks for its hosts when it
 * connects, so the service follows the cluster's updates (DNS, EDS) as Envoy's async clients do.
 */
public interface ClusterDirectory {
  /** Whether a cluster of that name is configured (static, or delivered by CDS). */
  boolean exists(String cluster);

  /** The cluster's hosts now, healthy ones first; empty when it has none or does not exist. */
  List<InetSocketAddress> hosts(String cluster);

  /**
   * The cluster's {@code metadata.filter_metadata[filter]} (Istio keeps a cluster's services under {@code istio}),
   * or null. Decoded from the cluster's config on each call: callers cache what they read.
   */
  default com.google.protobuf.@org.jspecify.annotations.Nullable Struct metadata(String cluster, String filter) {
    return null;
  }

  /**
   * A token whose identity changes whenever the cluster of that name is configured anew (or appears or goes), so a
   * caller can keep what it read from {@link #metadata} per cluster and notice a CDS update with one comparison;
   * null when no such cluster exists.
   */
  default @org.jspecify.annotations.Nullable Object generation(String cluster) {
    return null;
  }
}
