package io.bowline.core.testing;

/** xDS resources as YAML, for {@link XdsTestServer#set}: the shapes istiod sends, reduced to what a test needs. */
public final class XdsResources {
  private XdsResources() {}

  /** A cluster whose endpoints come from EDS over ADS. */
  public static String edsCluster(String name) {
    return """
        name: %s
        type: EDS
        connect_timeout: 1s
        eds_cluster_config: {eds_config: {ads: {}, resource_api_version: V3}}
        """.formatted(name);
  }

  /** A load assignment: every port an endpoint on 127.0.0.1. */
  public static String endpoints(String cluster, int... ports) {
    StringBuilder eps = new StringBuilder();
    for (int p : ports) {
      eps.append("  - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ").append(p)
          .append("}}}\n");
    }
    return "cluster_name: " + cluster + "\nendpoints:\n- lb_endpoints:\n" + eps;
  }

  /** Listener {@code http} on 127.0.0.1 (port 0 keeps its socket across updates), routes from RDS {@code local}. */
  public static String listener(String statPrefix) {
    return """
        name: http
        address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        filter_chains:
        - filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: %s
              rds: {route_config_name: local, config_source: {ads: {}, resource_api_version: V3}}
              http_filters:
              - name: envoy.filters.http.router
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.formatted(statPrefix);
  }

  /** Route configuration {@code local}: each (prefix, cluster) pair in order. */
  public static String routes(String... prefixAndCluster) {
    StringBuilder r = new StringBuilder(header());
    for (int i = 0; i < prefixAndCluster.length; i += 2) {
      r.append(route(prefixAndCluster[i], "{cluster: " + prefixAndCluster[i + 1] + "}"));
    }
    return r.toString();
  }

  /** The start of route configuration {@code local}, one catch-all virtual host; add {@link #route}s. */
  public static String header() {
    return "name: local\nvirtual_hosts:\n- name: all\n  domains: [\"*\"]\n  routes:\n";
  }

  /** One route: a prefix and its action as flow YAML. */
  public static String route(String prefix, String action) {
    return "  - match: {prefix: \"" + prefix + "\"}\n    route: " + action + "\n";
  }

  /** A weighted_clusters action splitting between two clusters (weights out of 100). */
  public static String split(String a, int weightA, String b) {
    return "{weighted_clusters: {clusters: [{name: " + a + ", weight: " + weightA + "}, {name: " + b + ", weight: "
        + (100 - weightA) + "}]}}";
  }
}
