package io.bowline.filters.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Istio's PeerAuthentication shapes on an inbound listener, as istiod writes them: the mTLS chain chosen by
 * tls_inspector for transport_protocol tls and Istio's ALPN values (istio-http/1.1, ...), with istio_authn and an
 * RBAC source-principal rule (AuthorizationPolicy "from productpage"); PERMISSIVE adds a raw_buffer chain, STRICT has
 * none, so plaintext is closed there, and on PERMISSIVE plaintext has no principal, so the policy denies it.
 */
@ExtendWith(LeakGuard.class)
class PeerAuthenticationIT {
  private static final String PRODUCTPAGE = "spiffe://cluster.local/ns/default/sa/productpage";

  private static String listener(boolean permissive) {
    String plaintext = """
            - filter_chain_match: {transport_protocol: raw_buffer}
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config: *hcm
        """;
    return """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: virtualInbound
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            traffic_direction: INBOUND
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
            filter_chains:
            - filter_chain_match:
                transport_protocol: tls
                application_protocols: [istio-peer-exchange, istio-http/1.0, istio-http/1.1, istio-h2]
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    alpn_protocols: [h2, http/1.1]
                    tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                    validation_context:
                      trusted_ca: {inline_string: ${CA}}
                      match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/"}}]
              filters:
              - name: istio_authn
                typed_config: {"@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.network.authn.Config}
              - name: envoy.filters.network.http_connection_manager
                typed_config: &hcm
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inbound_0.0.0.0_9080
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: "inbound|9080||"}}]}]}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        policies:
                          ns[default]-policy[reviews-viewer]-rule[0]:
                            permissions: [{any: true}]
                            principals:
                            - filter_state: {key: io.istio.peer_principal, string_match: {exact: "spiffe://cluster.local/ns/default/sa/productpage"}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """ + (permissive ? plaintext : "") + """
          clusters:
          - name: "inbound|9080||"
            type: STATIC
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
  }

  @Test
  void strictClosesPlaintextPermissiveServesBoth() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity client = TestCerts.identity("pp", PRODUCTPAGE);
    TestCerts.Identity ratings = TestCerts.identity("ratings", "spiffe://cluster.local/ns/default/sa/ratings");
    for (boolean permissive : new boolean[] {false, true}) {
      try (TestBackend backend = TestBackend.start();
          ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), listener(permissive), Map.of(
              "PORT", backend.port(), "CERT", TestCerts.Pem.yaml(server.pem().certificate()),
              "KEY", TestCerts.Pem.yaml(server.pem().privateKey()),
              "CA", TestCerts.Pem.yaml(client.pem().certificate() + ratings.pem().certificate())))) {
        int port = proxy.port("virtualInbound");
        String mtls = mtlsGet(port, client, server, "istio-http/1.1");
        assertTrue(mtls.startsWith("HTTP/1.1 200"), (permissive ? "PERMISSIVE" : "STRICT") + ": " + mtls);
        String other = mtlsGet(port, ratings, server, "istio-http/1.1");
        assertTrue(other.startsWith("HTTP/1.1 403") && other.endsWith("RBAC: access denied"), "ratings: " + other);
        String plain = plainGet(port);
        if (permissive) {
          assertTrue(plain.startsWith("HTTP/1.1 403"), "PERMISSIVE serves plaintext, which has no principal: " + plain);
        } else {
          assertEquals("", plain, "STRICT: no chain for plaintext, closed");
        }
      }
    }
  }

  private static String mtlsGet(int port, TestCerts.Identity client, TestCerts.Identity server, String alpn)
      throws Exception {
    try (SSLSocket s = (SSLSocket) client.sslContext(server.certificate()).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {alpn});
      s.setSSLParameters(p);
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET /size/2 HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  private static String plainGet(int port) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET /size/2 HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    } catch (java.net.SocketException e) {
      return "";
    }
  }
}
