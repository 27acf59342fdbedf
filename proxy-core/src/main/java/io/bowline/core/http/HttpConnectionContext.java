package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.upstream.ClusterManager;
import java.net.InetSocketAddress;

/** What every stream of one downstream connection shares: its HCM config, its peers, and the cluster manager. */
public record HttpConnectionContext(
    HcmConfig hcm,
    ClusterManager clusters,
    InetSocketAddress remote,
    InetSocketAddress local,
    boolean tls,
    String remoteIp) {

  public static HttpConnectionContext of(HcmConfig hcm, ClusterManager clusters, InetSocketAddress remote,
      InetSocketAddress local, boolean tls) {
    return new HttpConnectionContext(hcm, clusters, remote, local, tls, remote.getAddress().getHostAddress());
  }
}
