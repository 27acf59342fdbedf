package io.bowline.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy's /certs: each TLS context in use — a listener's, a cluster's — with the CA it trusts and the certificate it
 * presents: where each came from, serial number, SANs, validity and days until expiration.
 */
@ExtendWith(LeakGuard.class)
class CertsIT {
  @Test
  void listsEachContextsCertificateAndCa(@TempDir Path dir) throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews.default.svc", "spiffe://cluster.local/ns/default/sa/reviews");
    TestCerts.Identity ca = TestCerts.identity("ca.example");
    Path caFile = dir.resolve("root-cert.pem");
    Files.writeString(caFile, ca.pem().certificate());
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: tls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
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
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                common_tls_context:
                  validation_context: {trusted_ca: {filename: ${CA_FILE}}}
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port(),
            "CERT", TestCerts.Pem.yaml(server.pem().certificate()), "KEY", TestCerts.Pem.yaml(server.pem().privateKey()),
            "CA_FILE", caFile.toString()))) {
      JsonArray certs = JsonParser.parseString(proxy.admin("/certs")).getAsJsonObject().getAsJsonArray("certificates");
      assertEquals(2, certs.size(), "the listener's context and the cluster's: " + certs);
      JsonObject listener = certs.get(0).getAsJsonObject();
      assertTrue(!listener.has("ca_cert"), "the listener trusts no CA");
      JsonObject leaf = listener.getAsJsonArray("cert_chain").get(0).getAsJsonObject();
      assertEquals("<inline>", leaf.get("path").getAsString());
      assertEquals(server.certificate().getSerialNumber().toString(16), leaf.get("serial_number").getAsString());
      List<String> sans = new ArrayList<>();
      leaf.getAsJsonArray("subject_alt_names").forEach(s -> sans.add(s.toString()));
      assertEquals(List.of("{\"dns\":\"reviews.default.svc\"}", "{\"ip_address\":\"127.0.0.1\"}",
          "{\"uri\":\"spiffe://cluster.local/ns/default/sa/reviews\"}"), sans); // TestCerts adds the loopback IP
      // TestCerts' certificates last a day: 0 whole days left, which proto JSON leaves out, as Envoy's does
      assertTrue(!leaf.has("days_until_expiration"), leaf.toString());
      java.time.Instant expires = java.time.Instant.parse(leaf.get("expiration_time").getAsString());
      assertEquals(server.certificate().getNotAfter().toInstant(), expires);
      assertEquals(server.certificate().getNotBefore().toInstant(),
          java.time.Instant.parse(leaf.get("valid_from").getAsString()));
      JsonObject cluster = certs.get(1).getAsJsonObject();
      JsonObject root = cluster.getAsJsonArray("ca_cert").get(0).getAsJsonObject();
      assertEquals(caFile.toString(), root.get("path").getAsString());
      assertEquals(ca.certificate().getSerialNumber().toString(16), root.get("serial_number").getAsString());
      assertTrue(!cluster.has("cert_chain"), "the cluster presents no certificate");
    }
  }
}
