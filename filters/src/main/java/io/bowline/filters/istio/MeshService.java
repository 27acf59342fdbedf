package io.bowline.filters.istio;

import org.jspecify.annotations.Nullable;

/**
 * The destination service of a request as Istio labels it: {@code destination_service} (the host),
 * {@code destination_service_name} and {@code destination_service_namespace}.
 */
record MeshService(String host, String name, String namespace) {
  static final MeshService UNKNOWN = new MeshService(Workload.UNKNOWN, Workload.UNKNOWN, Workload.UNKNOWN);

  /**
   * From an Istio cluster name, {@code outbound|80|v1|reviews.default.svc.cluster.local}; null for the names that
   * carry no service (inbound clusters, PassthroughCluster, names that are not Istio's).
   */
  static @Nullable MeshService ofCluster(@Nullable String cluster) {
    if (cluster == null) {
      return null;
    }
    int bar = cluster.lastIndexOf('|');
    if (bar < 0 || !(cluster.startsWith("outbound|") || cluster.startsWith("inbound|")) || bar == cluster.length() - 1) {
      return null;
    }
    return ofHost(cluster.substring(bar + 1));
  }

  /**
   * From Istio's cluster metadata, {@code filter_metadata.istio.services[0]} ({@code host}, {@code name},
   * {@code namespace}); null when absent.
   */
  static @Nullable MeshService ofIstioMetadata(com.google.protobuf.@Nullable Struct istio) {
    if (istio == null) {
      return null;
    }
    var services = istio.getFieldsMap().get("services");
    if (services == null || services.getListValue().getValuesCount() == 0) {
      return null;
    }
    var s = services.getListValue().getValues(0).getStructValue().getFieldsMap();
    String host = s.containsKey("host") ? s.get("host").getStringValue() : "";
    if (host.isEmpty()) {
      return null;
    }
    MeshService parsed = ofHost(host);
    String name = s.containsKey("name") ? s.get("name").getStringValue() : parsed.name();
    String namespace = s.containsKey("namespace") ? s.get("namespace").getStringValue() : parsed.namespace();
    return new MeshService(host, name, namespace);
  }

  /** From a Kubernetes service host ({@code name.namespace.svc.<domain>}) or any other host. */
  static MeshService ofHost(String host) {
    int colon = host.lastIndexOf(':');
    String h = colon > 0 && host.indexOf(']') < colon && host.indexOf(':') == colon ? host.substring(0, colon) : host;
    int first = h.indexOf('.');
    if (first > 0) {
      int second = h.indexOf('.', first + 1);
      if (second > 0 && h.startsWith(".svc", second)) {
        return new MeshService(h, h.substring(0, first), h.substring(first + 1, second));
      }
    }
    return new MeshService(h, h, Workload.UNKNOWN);
  }
}
