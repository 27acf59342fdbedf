package io.bowline.core.boot;

/** The bootstrap used when no config is given: every request on 0.0.0.0:10000 goes to a service on 127.0.0.1:8080. */
public final class EmbeddedDefault {
  private EmbeddedDefault() {}

  public static final String YAML = """
      node: {id: bowline, cluster: bowline}
      admin:
        address: {socket_address: {address: 127.0.0.1, port_value: 9901}}
      static_resources:
        listeners:
        - name: default
          address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress_http
                codec_type: AUTO
                http_protocol_options: {accept_http_10: true}
                upgrade_configs: [{upgrade_type: websocket}]
                route_config:
                  name: local_route
                  virtual_hosts:
                  - name: local_service
                    domains: ["*"]
                    routes:
                    - match: {prefix: "/"}
                      route: {cluster: local_service}
                http_filters:
                - name: envoy.filters.http.router
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        clusters:
        - name: local_service
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: local_service
            endpoints:
            - lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
      """;
}
