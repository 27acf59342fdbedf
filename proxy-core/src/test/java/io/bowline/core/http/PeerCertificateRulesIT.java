package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Client certificates over real mutual TLS against match_typed_subject_alt_names as Istio writes it (a URI prefix
 * for the trust domain): a matching SPIFFE id passes; the same id in a DNS SAN (type confusion), a second URI SAN
 * beside a SPIFFE id, a foreign trust domain and a certificate for server use only are refused at the handshake.
 */
@ExtendWith(LeakGuard.class)
class PeerCertificateRulesIT {
  private static final String ID = "spiffe://cluster.local/ns/default/sa/productpage";

  @Test
  void onlyAnX509SvidOfTheTrustDomainGetsIn() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews.default.svc", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity good = TestCerts.identity("productpage.default.svc", ID);
    TestCerts.Identity confused = TestCerts.identity(ID); // the id only as a DNS SAN
    TestCerts.Identity twoUris = TestCerts.identity("p.default.svc", ID, "https://example.com/other");
    TestCerts.Identity foreign = TestCerts.identity("p.default.svc", "spiffe://evil.example/ns/default/sa/x");
    String cas = good.pem().certificate() + confused.pem().certificate() + twoUris.pem().certificate()
        + foreign.pem().certificate();
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: mtls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                    validation_context:
                      trusted_ca: {inline_string: ${CAS}}
                      match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/"}}]
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  route_config:
                    virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port(),
            "CERT", TestCerts.Pem.yaml(server.pem().certificate()), "KEY", TestCerts.Pem.yaml(server.pem().privateKey()),
            "CAS", TestCerts.Pem.yaml(cas)))) {
      assertEquals(200, get(proxy, good, server));
      assertThrows(IOException.class, () -> get(proxy, confused, server), "a SPIFFE id in a DNS SAN is not a URI");
      assertThrows(IOException.class, () -> get(proxy, twoUris, server), "an X.509-SVID has one URI SAN");
      assertThrows(IOException.class, () -> get(proxy, foreign, server), "another trust domain");
      assertEquals(200, get(proxy, good, server), "the listener keeps serving");
    }
  }

  private static int get(ProxyHarness proxy, TestCerts.Identity client, TestCerts.Identity server) throws Exception {
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .sslContext(client.sslContext(server.certificate())).connectTimeout(Duration.ofSeconds(5)).build();
    return c.send(HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + proxy.port("mtls") + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
