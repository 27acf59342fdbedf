package io.bowline.filters.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Istio's AuthorizationPolicy on source principals as istiod writes it for an inbound mTLS chain: the istio_authn
 * network filter (in a TypedStruct) puts the client's SPIFFE id in filter state, and the HTTP RBAC filter's
 * {@code filter_state: {key: io.istio.peer_principal}} principal lets only that workload in.
 */
@ExtendWith(LeakGuard.class)
class IstioSourcePrincipalIT {
  @Test
  void onlyTheAllowedWorkloadGetsIn() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews.default.svc", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity productpage = TestCerts.identity("pp", "spiffe://cluster.local/ns/default/sa/productpage");
    TestCerts.Identity ratings = TestCerts.identity("rt", "spiffe://cluster.local/ns/default/sa/ratings");
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: inbound
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                    validation_context: {trusted_ca: {inline_string: ${CAS}}}
              filters:
              - name: istio_authn
                typed_config: {"@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.network.authn.Config}
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inbound
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        policies:
                          ns[default]-policy[allow-productpage]-rule[0]:
                            permissions: [{and_rules: {rules: [{any: true}]}}]
                            principals: [{and_ids: {ids: [{or_ids: {ids: [{filter_state: {key: io.istio.peer_principal, string_match: {exact: "spiffe://cluster.local/ns/default/sa/productpage"}}}]}}]}}]
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", backend.port(),
            "CERT", TestCerts.Pem.yaml(server.pem().certificate()), "KEY", TestCerts.Pem.yaml(server.pem().privateKey()),
            "CAS", TestCerts.Pem.yaml(productpage.pem().certificate() + ratings.pem().certificate())))) {
      assertEquals(200, get(proxy, productpage, server));
      assertEquals(403, get(proxy, ratings, server));
      assertEquals(1, proxy.stat("http.inbound.rbac.denied"));
    }
  }

  private static int get(ProxyHarness proxy, TestCerts.Identity client, TestCerts.Identity server) throws Exception {
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .sslContext(client.sslContext(server.certificate())).build();
    return c.send(HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + proxy.port("inbound") + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
