package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * istio.alpn between two sidecars: the server's inbound listener serves HTTP only on Istio's HTTP ALPN values (as
 * istiod writes it when no TCP chain applies); the client's outbound cluster offers Istio's TCP values
 * {@code istio-peer-exchange, istio}. Without the filter the connection finds no chain; with it the connection offers
 * {@code istio-http/1.1, istio, http/1.1} (or {@code istio-h2, istio, h2} to an HTTP/2 cluster) and is served.
 */
@ExtendWith(LeakGuard.class)
class IstioAlpnIT {
  private static final String SERVER = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: virtualInbound
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          listener_filters:
          - name: envoy.filters.listener.tls_inspector
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
          filter_chains:
          - filter_chain_match: {transport_protocol: tls, application_protocols: [istio-http/1.0, istio-http/1.1, istio-h2]}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                require_client_certificate: true
                common_tls_context:
                  alpn_protocols: [h2, http/1.1]
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                  validation_context: {trusted_ca: {inline_string: ${CA}}}
            filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: inbound_0.0.0.0_9080
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: "inbound|9080||"}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        clusters:
        - name: "inbound|9080||"
          type: STATIC
          load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
      """;

  private static String outbound(String name, String cluster, boolean alpnFilter) {
    return """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: NAME
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: "CLUSTER"}}]}]}
                  http_filters:
        """.replace("NAME", name).replace("CLUSTER", cluster) + (alpnFilter ? """
                  - name: istio.alpn
                    typed_config:
                      "@type": type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig
                      alpn_override:
                      - alpn_override: [istio-http/1.0, istio, http/1.0]
                      - {upstream_protocol: HTTP11, alpn_override: [istio-http/1.1, istio, http/1.1]}
                      - {upstream_protocol: HTTP2, alpn_override: [istio-h2, istio, h2]}
        """ : "") + """
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
  }

  private static String cluster(String name, boolean http2) {
    return """
          - name: "NAME"
            type: STATIC
        """.replace("NAME", name) + (http2 ? """
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
        """ : "") + """
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: outbound_.9080_._.reviews.default.svc.cluster.local
                common_tls_context:
                  alpn_protocols: [istio-peer-exchange, istio]
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                  validation_context:
                    trusted_ca: {inline_string: ${CA}}
                    match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "spiffe://cluster.local/ns/default/sa/reviews"}}]
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${SERVER}}}}}]}]}
        """;
  }

  @Test
  void istioHttpAlpnReachesTheInboundHttpChain() throws Exception {
    TestCerts.Identity reviews = TestCerts.identity("reviews", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity productpage = TestCerts.identity("productpage",
        "spiffe://cluster.local/ns/default/sa/productpage");
    String client = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
        """ + outbound("with_alpn", "outbound|9080||reviews", true)
        + outbound("with_alpn_h2", "outbound|9080|h2|reviews", true)
        + outbound("without", "outbound|9080||reviews", false) + """
          clusters:
        """ + cluster("outbound|9080||reviews", false) + cluster("outbound|9080|h2|reviews", true);
    try (TestBackend backend = TestBackend.start();
        ProxyHarness server = ProxyHarness.start(BuiltinFilters.registry(), SERVER, Map.of("PORT", backend.port(),
            "CERT", TestCerts.Pem.yaml(reviews.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(reviews.pem().privateKey()),
            "CA", TestCerts.Pem.yaml(productpage.pem().certificate())));
        ProxyHarness sidecar = ProxyHarness.start(BuiltinFilters.registry(), client, Map.of(
            "SERVER", server.port("virtualInbound"),
            "CERT", TestCerts.Pem.yaml(productpage.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(productpage.pem().privateKey()),
            "CA", TestCerts.Pem.yaml(reviews.pem().certificate())))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String listener : new String[] {"with_alpn", "with_alpn_h2", "without", "with_alpn"}) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + sidecar.port(listener) + "/echo/" + listener)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(listener.equals("without") ? 503 : 200, r.statusCode(), listener + ": " + r.body());
      }
      assertEquals(3, backend.requestsTo("/echo/with_alpn"), "both with_alpn listeners reached the backend");
      assertEquals(1, server.stat("http.inbound_0.0.0.0_9080.downstream_cx_http2_total"), "istio-h2 brought h2");
      assertEquals(1, server.stat("http.inbound_0.0.0.0_9080.downstream_cx_http1_total"),
          "istio-http/1.1: one HTTP/1.1 connection, pooled for both requests");
    }
  }
}
