package io.bowline.core.http;

import static io.bowline.core.testing.LogFiles.awaitLines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * x-forwarded-client-cert over mutual TLS, as Istio's inbound sidecars configure it (APPEND_FORWARD with Subject,
 * URI and DNS): this hop's element is appended to what the client sent; over plaintext (the default SANITIZE too) a
 * forged header never reaches the application.
 */
@ExtendWith(LeakGuard.class)
class ClientCertHeaderIT {
  @TempDir
  Path dir;

  private static final String CLIENT_ID = "spiffe://cluster.local/ns/default/sa/productpage";
  private static final String SERVER_ID = "spiffe://cluster.local/ns/default/sa/reviews";

  private static String bootstrap(String xfcc, String clientCa) {
    return """
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
                    validation_context: {trusted_ca: {inline_string: ${CA}}}
              filters: &filters
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  XFCC
                  route_config:
                    virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          - name: plain
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains: [{filters: *filters}]
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("XFCC", xfcc).replace("${CA}", clientCa);
  }

  @Test
  void appendForwardAddsThisHopsElementOnlyOverMtls() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews.default.svc", SERVER_ID);
    TestCerts.Identity client = TestCerts.identity("productpage.default.svc", CLIENT_ID);
    // the access log names the connection's certificates too (read once per TLS session, then from a cache)
    Path log = dir.resolve("access.log");
    String yaml = bootstrap("forward_client_cert_details: APPEND_FORWARD\n"
        + "          set_current_client_cert_details: {subject: true, uri: true, dns: true}\n"
        + "          access_log: [{name: envoy.access_loggers.file, typed_config: {\"@type\": "
        + "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, path: ${LOG}, log_format: "
        + "{text_format_source: {inline_string: \"%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_PEER_DNS_SAN% "
        + "%DOWNSTREAM_LOCAL_URI_SAN% %DOWNSTREAM_LOCAL_DNS_SAN% %DOWNSTREAM_PEER_FINGERPRINT_256% "
        + "[%DOWNSTREAM_PEER_SUBJECT%]\\n\"}}}}]",
        TestCerts.Pem.yaml(client.pem().certificate()));
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port(), "LOG", log,
            "CERT", TestCerts.Pem.yaml(server.pem().certificate()), "KEY", TestCerts.Pem.yaml(server.pem().privateKey())),
            "--file-flush-interval-msec", "50")) {
      HttpClient mtls = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .sslContext(client.sslContext(server.certificate())).build();
      HttpResponse<String> r = mtls.send(HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:"
          + proxy.port("mtls") + "/echo")).header("x-forwarded-client-cert", "By=spiffe://a;Hash=00")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      String xfcc = r.headers().firstValue("x-echo-h-x-forwarded-client-cert").orElseThrow();
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(client.certificate().getEncoded()));
      assertEquals("By=spiffe://a;Hash=00,By=" + SERVER_ID + ";Hash=" + hash
          + ";Subject=\"O=bowline,CN=productpage.default.svc\";URI=" + CLIENT_ID + ";DNS=productpage.default.svc",
          xfcc);

      assertEquals(200, mtls.send(HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:"
          + proxy.port("mtls") + "/again")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());

      HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> p = plain.send(HttpRequest.newBuilder(proxy.uri("plain", "/echo"))
          .header("x-forwarded-client-cert", "By=spiffe://forged;URI=spiffe://cluster.local/ns/x/sa/admin")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, p.statusCode());
      assertFalse(p.headers().firstValue("x-echo-h-x-forwarded-client-cert").isPresent(),
          "no client certificate: a forged header is dropped");

      String names = CLIENT_ID + " productpage.default.svc " + SERVER_ID + " reviews.default.svc " + hash
          + " [O=bowline,CN=productpage.default.svc]";
      assertEquals(List.of(names, names, "- - - - - [-]"), awaitLines(log, 3), "both mTLS requests, then plaintext");
    }
  }

  @Test
  void sanitizeByDefault() throws Exception {
    TestCerts.Identity server = TestCerts.identity("reviews.default.svc", SERVER_ID);
    TestCerts.Identity client = TestCerts.identity("productpage.default.svc", CLIENT_ID);
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(bootstrap("", TestCerts.Pem.yaml(client.pem().certificate())),
            Map.of("PORT", backend.port(), "CERT", TestCerts.Pem.yaml(server.pem().certificate()),
                "KEY", TestCerts.Pem.yaml(server.pem().privateKey())))) {
      HttpClient mtls = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .sslContext(client.sslContext(server.certificate())).build();
      HttpResponse<String> r = mtls.send(HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:"
          + proxy.port("mtls") + "/echo")).header("x-forwarded-client-cert", "By=x;Hash=00")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertTrue(r.headers().firstValue("x-echo-h-x-forwarded-client-cert").isEmpty(), "SANITIZE removes it");
    }
  }
}
