package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import java.net.InetAddress;
import java.util.List;

/** Test access to package-private upstream helpers. */
public final class ClusterTestAccess {
  private ClusterTestAccess() {}

  public static List<InetAddress> byFamily(InetAddress[] all, String family) {
    return Cluster.byFamily(all, ClusterConfig.DnsFamily.valueOf(family));
  }
}
