package io.bowline.filters.istio;

import org.jspecify.annotations.Nullable;

/**
 * The labels of Istio's metrics that the two workloads, the service and the TLS identities decide — the first twenty
 * of {@link StatsSettings#HTTP_LABELS} — filled as Istio's stats filter fills them for each reporter: a peer's
 * namespace comes from its SPIFFE principal before its metadata, {@code destination_service_namespace} is the peer's
 * namespace on the source side and the reporting proxy's own on the others, a peer without a canonical revision is
 * {@code latest} (but an unknown waypoint destination's is {@code unknown}), and a destination proxy that found no
 * service names its own canonical service.
 */
final class PeerLabels {
  private PeerLabels() {}

  /**
   * @param principals {source_principal, destination_principal, connection_security_policy}
   * @param self this proxy's own workload (one of {@code source}, {@code destination}, unless a waypoint)
   */
  static String[] of(IstioStatsProvider.Role role, String reporter, Workload self, Workload source,
      Workload destination, MeshService service, String[] principals) {
    boolean sourceSide = role == IstioStatsProvider.Role.SOURCE;
    String sourceNamespace = sourceSide ? source.namespace() : known(spiffeNamespace(principals[0]), source.namespace());
    String destinationNamespace = sourceSide ? known(spiffeNamespace(principals[1]), destination.namespace())
        : destination.namespace();
    String serviceNamespace = sourceSide ? destinationNamespace : self.namespace();
    String destinationRevision = role == IstioStatsProvider.Role.WAYPOINT && destination == Workload.NONE
        ? Workload.UNKNOWN : destination.canonicalRevision();
    String serviceHost = service.host();
    String serviceName = service.name();
    if (service == MeshService.UNKNOWN && !sourceSide) {
      serviceHost = destination.canonicalService(); // Istio's fallback when neither cluster nor Host names one
      serviceName = serviceHost;
    }
    return new String[] {reporter, source.workload(), source.canonicalService(), source.canonicalRevision(),
        sourceNamespace, principals[0], source.app(), source.version(), source.cluster(), destination.workload(),
        destinationNamespace, principals[1], destination.app(), destination.version(), serviceHost,
        destination.canonicalService(), destinationRevision, serviceName, serviceNamespace, destination.cluster()};
  }

  /** The namespace of a SPIFFE id, {@code spiffe://<domain>/ns/<namespace>/sa/<account>}; null when it has none. */
  static @Nullable String spiffeNamespace(String principal) {
    int at = principal.indexOf("/ns/");
    if (at < 0) {
      return null;
    }
    int start = at + 4;
    int end = principal.indexOf('/', start);
    String ns = end < 0 ? principal.substring(start) : principal.substring(start, end);
    return ns.isEmpty() ? null : ns;
  }

  private static String known(@Nullable String preferred, String otherwise) {
    return preferred != null ? preferred : otherwise;
  }
}
