package io.bowline.core.compile;

import io.bowline.core.config.ClusterConfig;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code ClusterLoadAssignment}, inline in a cluster or delivered by EDS, into its endpoints with their priority and
 * health. Endpoints marked unhealthy, draining or timed out are kept but marked: Envoy sends them no new requests, and
 * they count against their priority's health, which decides how much traffic fails over to the next priority.
 */
public final class EndpointCompiler {
  private EndpointCompiler() {}

  public static List<ClusterConfig.EndpointConfig> compile(ClusterLoadAssignment la, String path,
      boolean literalAddresses) throws ConfigException {
    Fields.allow(la, path, "cluster_name", "endpoints", "policy");
    int overprovisioning = 140;
    if (la.hasPolicy()) {
      Fields.allow(la.getPolicy(), path + ".policy", "overprovisioning_factor");
      if (la.getPolicy().hasOverprovisioningFactor()) {
        overprovisioning = la.getPolicy().getOverprovisioningFactor().getValue();
        if (overprovisioning < 1) {
          throw new ConfigException(path + ".policy.overprovisioning_factor", "must be at least 1");
        }
      }
    }
    List<ClusterConfig.EndpointConfig> endpoints = new ArrayList<>();
    for (int i = 0; i < la.getEndpointsCount(); i++) {
      LocalityLbEndpoints le = la.getEndpoints(i);
      String lp = path + ".endpoints[" + i + "]";
      Fields.allow(le, lp, "lb_endpoints", "locality", "load_balancing_weight", "priority");
      List<ClusterConfig.EndpointConfig> here = new ArrayList<>();
      for (int j = 0; j < le.getLbEndpointsCount(); j++) {
        LbEndpoint e = le.getLbEndpoints(j);
        String ep = lp + ".lb_endpoints[" + j + "]";
        Fields.allow(e, ep, "endpoint", "load_balancing_weight", "health_status", "metadata");
        // health_check_config steers the cluster's active health checks; a cluster without them ignores it (Envoy)
        Fields.allow(e.getEndpoint(), ep + ".endpoint", "address", "hostname", "health_check_config");
        ClusterConfig.HealthCheckTarget hc = ClusterConfig.HealthCheckTarget.DEFAULT;
        if (e.getEndpoint().hasHealthCheckConfig()) {
          var h = e.getEndpoint().getHealthCheckConfig();
          String hp = ep + ".endpoint.health_check_config";
          Fields.allow(h, hp, "port_value", "hostname", "disable_active_health_check");
          if (h.getPortValue() > 65535) {
            throw new ConfigException(hp + ".port_value", "must be in [0, 65535], got " + h.getPortValue());
          }
          hc = new ClusterConfig.HealthCheckTarget(h.getPortValue(), h.getHostname(), h.getDisableActiveHealthCheck());
        }
        if (!e.getEndpoint().getAddress().hasSocketAddress()) {
          throw new ConfigException(ep + ".endpoint.address", "a socket_address is required");
        }
        SocketAddress s = e.getEndpoint().getAddress().getSocketAddress();
        String sp = ep + ".endpoint.address.socket_address";
        Fields.allow(s, sp, "address", "port_value", "protocol");
        java.net.InetAddress literal = null; // parsed once here: a cluster refresh then looks nothing up
        if (literalAddresses) {
          literal = ListenerCompiler.literal(s.getAddress(), sp + ".address");
        } else if (s.getAddress().isEmpty()) {
          throw new ConfigException(sp + ".address", "required");
        }
        if (s.getPortValue() == 0 || s.getPortValue() > 65535) {
          throw new ConfigException(sp + ".port_value", "must be in [1, 65535], got " + s.getPortValue());
        }
        int weight = e.hasLoadBalancingWeight() ? e.getLoadBalancingWeight().getValue() : 1;
        if (weight < 1) {
          throw new ConfigException(ep + ".load_balancing_weight", "must be at least 1");
        }
        boolean healthy = switch (e.getHealthStatus()) {
          case UNHEALTHY, DRAINING, TIMEOUT -> false; // Envoy routes no new requests to these
          default -> true;
        };
        String hostname = e.getEndpoint().getHostname().isEmpty() ? s.getAddress() : e.getEndpoint().getHostname();
        here.add(new ClusterConfig.EndpointConfig(s.getAddress(), s.getPortValue(), weight, hostname, 0,
            le.getPriority(), healthy, e.getHealthStatus() == io.envoyproxy.envoy.config.core.v3.HealthStatus.DEGRADED,
            overprovisioning, literal, ClusterConfig.localityKey(le.getLocality()), hc,
            e.getMetadata().getFilterMetadataMap())); // the proto's own immutable map: nothing copied per endpoint
      }
      if (here.isEmpty()) {
        continue;
      }
      if (le.hasLoadBalancingWeight()) {
        long sum = here.stream().filter(ClusterConfig.EndpointConfig::healthy)
            .mapToLong(ClusterConfig.EndpointConfig::weight).sum();
        double share = sum == 0 ? 0 : (double) le.getLoadBalancingWeight().getValue() / sum;
        here.replaceAll(e -> e.withLocalityShare(share));
      }
      endpoints.addAll(here);
    }
    return List.copyOf(endpoints);
  }
}
