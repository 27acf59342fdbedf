package io.bowline.filters.extauthz;

import io.bowline.core.filter.ClusterDirectory;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.GrpcService;

/** An authorization service's gRPC target, checked: its {@code envoy_grpc} cluster, :authority and timeout. */
record AuthzService(String cluster, String authority, long timeoutMs) {
  /** ext_authz's default when the service names no timeout. */
  static final long DEFAULT_TIMEOUT_MS = 200;

  static AuthzService of(GrpcService g, String path, ClusterDirectory clusters) throws ConfigException {
    if (!g.hasEnvoyGrpc()) {
      throw new ConfigException(path + ".envoy_grpc", "required (google_grpc is not supported)");
    }
    String cluster = g.getEnvoyGrpc().getClusterName();
    if (!clusters.exists(cluster)) {
      throw new ConfigException(path + ".envoy_grpc.cluster_name", "unknown cluster '" + cluster + "'");
    }
    AuthzService s = new AuthzService(cluster, g.getEnvoyGrpc().getAuthority(), g.hasTimeout()
        ? g.getTimeout().getSeconds() * 1000 + g.getTimeout().getNanos() / 1_000_000 : DEFAULT_TIMEOUT_MS);
    io.bowline.core.filter.ClusterChannels.warm(clusters, cluster, s.authority());
    return s;
  }
}
