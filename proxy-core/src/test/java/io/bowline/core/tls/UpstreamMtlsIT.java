package io.bowline.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Istio's outbound mTLS: the SNI is {@code outbound_.9080_._.reviews.default.svc.cluster.local}, which names no SAN of
 * the server's SPIFFE certificate; Envoy checks the server against the SAN matchers only, so the connection must
 * succeed, and a server whose SPIFFE id the matcher does not name must fail (503) with nothing of the request sent
 * (HOSTILE-INPUTS TLS-10).
 */
@ExtendWith(LeakGuard.class)
class UpstreamMtlsIT {
  private static final String YAML = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: out
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: out
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: reviews}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        clusters:
        - name: reviews
          type: STATIC
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
              sni: outbound_.9080_._.reviews.default.svc.cluster.local
              common_tls_context:
                alpn_protocols: [istio-http/1.1, istio, http/1.1]
                tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                validation_context:
                  trusted_ca: {inline_string: ${CA}}
                  match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "${EXPECTED}"}}]
          load_assignment: {cluster_name: reviews, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
      """;

  @Test
  void spiffeServerWithoutTheSniAmongItsNamesIsAccepted() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews-pod", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity client = TestCerts.identity("productpage-pod",
        "spiffe://cluster.local/ns/default/sa/productpage");
    var serverTls = SslContextBuilder.forServer(server.key(), server.certificate())
        .trustManager(client.certificate()).clientAuth(ClientAuth.REQUIRE).build();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (String expected : new String[] {"spiffe://cluster.local/ns/default/sa/reviews",
        "spiffe://cluster.local/ns/default/sa/ratings"}) {
      try (TestBackend backend = TestBackend.startTls(serverTls);
          ProxyHarness proxy = ProxyHarness.start(YAML, Map.of("PORT", backend.port(),
              "CERT", TestCerts.Pem.yaml(client.pem().certificate()),
              "KEY", TestCerts.Pem.yaml(client.pem().privateKey()),
              "CA", TestCerts.Pem.yaml(server.pem().certificate()), "EXPECTED", expected))) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port("out")
            + "/size/3")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (expected.endsWith("reviews")) {
          assertEquals(200, r.statusCode(), r.body());
        } else {
          assertEquals(503, r.statusCode(), r.body());
          assertTrue(r.body().contains("connection failure"), r.body());
          assertEquals(0, backend.requestsTo("/size"), "HOSTILE-INPUTS TLS-10: the request bytes were never sent");
        }
      }
    }
  }

  private static final String AUTO_MTLS = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: out
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: out
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [
                  {match: {prefix: "/mesh"}, route: {cluster: "outbound|9080||reviews"}},
                  {match: {prefix: "/legacy"}, route: {cluster: "outbound|9080||legacy"}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        clusters:
        - name: "outbound|9080||reviews"
          type: STATIC
          transport_socket_matches: &matches
          - name: tlsMode-istio
            match: {tlsMode: istio}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: outbound_.9080_._.reviews.default.svc.cluster.local
                common_tls_context:
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                  validation_context:
                    trusted_ca: {inline_string: ${CA}}
                    match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "spiffe://cluster.local/ns/default/sa/reviews"}}]
          - name: tlsMode-disabled
            match: {}
            transport_socket: {name: envoy.transport_sockets.raw_buffer, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}
          load_assignment:
            cluster_name: x
            endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${MESH}}}},
                                         metadata: {filter_metadata: {envoy.transport_socket_match: {tlsMode: istio}}}}]}]
        - name: "outbound|9080||legacy"
          type: STATIC
          transport_socket_matches: *matches
          load_assignment: {cluster_name: y, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${LEGACY}}}}}]}]}
      """;

  /**
   * Istio's auto mTLS (transport_socket_matches): an endpoint whose metadata says tlsMode: istio gets the mTLS
   * transport socket (the server requires the client certificate), one without gets plaintext.
   */
  @Test
  void autoMtlsPicksTheTransportSocketPerEndpoint() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews-pod", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity client = TestCerts.identity("productpage-pod",
        "spiffe://cluster.local/ns/default/sa/productpage");
    var serverTls = SslContextBuilder.forServer(server.key(), server.certificate())
        .trustManager(client.certificate()).clientAuth(ClientAuth.REQUIRE).build();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    try (TestBackend mesh = TestBackend.startTls(serverTls);
        TestBackend legacy = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(AUTO_MTLS, Map.of("MESH", mesh.port(), "LEGACY", legacy.port(),
            "CERT", TestCerts.Pem.yaml(client.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(client.pem().privateKey()),
            "CA", TestCerts.Pem.yaml(server.pem().certificate())))) {
      for (String path : new String[] {"/mesh/x", "/legacy/x"}) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port("out")
            + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
      }
      assertEquals(1, mesh.requestsTo("/mesh"), "over mTLS");
      assertEquals(1, legacy.requestsTo("/legacy"), "in plaintext");
    }
  }
}
