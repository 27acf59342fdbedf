package io.bowline.core.xds;

import static io.bowline.core.testing.XdsResources.edsCluster;
import static io.bowline.core.testing.XdsResources.endpoints;
import static io.bowline.core.testing.XdsResources.routes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.XdsTestServer;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS certificates delivered by SDS, as istiod and pilot-agent deliver them: over the ADS stream, and over a
 * separate SDS stream on a unix socket (Istio's {@code sds-grpc}). A listener warms until its certificate arrives;
 * a rotated certificate is used by new handshakes within a second while open connections keep working; an unusable
 * certificate is NACKed and the previous one stays.
 */
@ExtendWith(LeakGuard.class)
class SdsIT {
  static TestBackend backend;
  static SelfSignedCertificate certA;
  static SelfSignedCertificate certB;

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    certA = new SelfSignedCertificate("a.example");
    certB = new SelfSignedCertificate("b.example");
  }

  @AfterAll
  static void stop() {
    backend.close();
    certA.delete();
    certB.delete();
  }

  static String secret(String name, SelfSignedCertificate cert) throws Exception {
    return "name: " + name + "\ntls_certificate:\n  certificate_chain: {inline_string: " + quoted(cert.certificate())
        + "}\n  private_key: {inline_string: " + quoted(cert.privateKey()) + "}\n";
  }

  static String quoted(java.io.File pem) throws Exception {
    return "\"" + Files.readString(pem.toPath()).replace("\n", "\\n") + "\"";
  }

  /** Listener {@code https}: TLS with the certificate from secret {@code default}, fetched as {@code sdsConfig}. */
  static String tlsListener(String sdsConfig) {
    return """
        name: https
        address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        filter_chains:
        - transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                tls_certificate_sds_secret_configs: [{name: default, sds_config: %s}]
          filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: https
              rds: {route_config_name: local, config_source: {ads: {}, resource_api_version: V3}}
              http_filters:
              - name: envoy.filters.http.router
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.formatted(sdsConfig);
  }

  /** A TLS connection that trusts anything and remembers the certificate it was shown. */
  static final class TlsClient implements AutoCloseable {
    final SSLSocket socket;
    final BufferedReader in;

    TlsClient(int port) throws Exception {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {new X509TrustManager() {
        public void checkClientTrusted(X509Certificate[] c, String a) {}

        public void checkServerTrusted(X509Certificate[] c, String a) {}

        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      }}, null);
      socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
      socket.setSoTimeout(3000);
      socket.startHandshake();
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
    }

    String subject() throws Exception {
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    /** One keep-alive GET; returns the status code. */
    int get(String path) throws Exception {
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      String status = in.readLine();
      int length = 0;
      String line;
      while (!(line = in.readLine()).isEmpty()) {
        if (line.toLowerCase().startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      in.skip(length);
      return Integer.parseInt(status.substring(9, 12));
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }

  /** The serial number of the certificate /certs says the https listener presents. */
  static String servedSerial(ProxyHarness proxy) throws Exception {
    var certs = com.google.gson.JsonParser.parseString(proxy.admin("/certs")).getAsJsonObject()
        .getAsJsonArray("certificates");
    assertEquals(1, certs.size(), "" + certs);
    var leaf = certs.get(0).getAsJsonObject().getAsJsonArray("cert_chain").get(0).getAsJsonObject();
    assertEquals("<inline>", leaf.get("path").getAsString());
    return leaf.get("serial_number").getAsString();
  }

  /** The SecretsConfigDump of {@code /config_dump}. */
  static com.google.gson.JsonObject secretsDump(ProxyHarness proxy) throws Exception {
    for (var c : com.google.gson.JsonParser.parseString(proxy.admin("/config_dump")).getAsJsonObject()
        .getAsJsonArray("configs")) {
      if (c.getAsJsonObject().get("@type").getAsString().endsWith("envoy.admin.v3.SecretsConfigDump")) {
        return c.getAsJsonObject();
      }
    }
    throw new AssertionError("no SecretsConfigDump");
  }

  static String subjectOfNewConnection(ProxyHarness proxy) {
    try (TlsClient c = new TlsClient(proxy.port("https"))) {
      return c.subject();
    } catch (Exception e) {
      return "none: " + e;
    }
  }

  @Test
  void certificatesOverAdsRotateWithoutDroppingConnections() throws Exception {
    try (XdsTestServer xds = XdsTestServer.tcp();
        ProxyHarness proxy = ProxyHarness.start(xds.bootstrap("GRPC"), Map.of())) {
      String listener = tlsListener("{ads: {}, resource_api_version: V3}");
      // the listener warms while its certificate has not arrived
      xds.set("1", List.of(edsCluster("svc")), List.of(endpoints("svc", backend.port())), List.of(listener),
          List.of(routes("/", "svc")), List.of());
      Thread.sleep(500);
      assertEquals(503, proxy.adminResponse("GET", "/ready").statusCode(), "warming without its secret");
      // what istioctl proxy-config secret reads: the secret asked for and not yet here, as Envoy shows it
      var warming = secretsDump(proxy).getAsJsonArray("dynamic_warming_secrets");
      assertEquals(1, warming.size(), "" + warming);
      assertEquals("default", warming.get(0).getAsJsonObject().get("name").getAsString());
      assertEquals("uninitialized", warming.get(0).getAsJsonObject().get("version_info").getAsString());
      xds.set("2", List.of(edsCluster("svc")), List.of(endpoints("svc", backend.port())), List.of(listener),
          List.of(routes("/", "svc")), List.of(secret("default", certA)));
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
      var dump = secretsDump(proxy);
      assertTrue(!dump.has("dynamic_warming_secrets") || dump.getAsJsonArray("dynamic_warming_secrets").isEmpty());
      var active = dump.getAsJsonArray("dynamic_active_secrets").get(0).getAsJsonObject();
      assertEquals("default", active.get("name").getAsString());
      assertEquals("2", active.get("version_info").getAsString());
      var tls = active.getAsJsonObject("secret").getAsJsonObject("tls_certificate");
      assertEquals("[redacted]", tls.getAsJsonObject("private_key").get("inline_string").getAsString());
      assertTrue(tls.getAsJsonObject("certificate_chain").get("inline_string").getAsString()
          .startsWith("-----BEGIN CERTIFICATE-----"), "the certificate shows");
      assertTrue(!proxy.admin("/config_dump").contains("PRIVATE KEY"), "no private key anywhere in the dump");
      assertEquals(certA.cert().getSerialNumber().toString(16), servedSerial(proxy), "/certs shows the SDS one");
      try (TlsClient old = new TlsClient(proxy.port("https"))) {
        assertTrue(old.subject().contains("a.example"), old.subject());
        assertEquals(200, old.get("/echo/a"));

        // rotation: new handshakes get the new certificate within a second, the open connection keeps working
        long pushed = System.nanoTime();
        xds.set("3", List.of(edsCluster("svc")), List.of(endpoints("svc", backend.port())), List.of(listener),
            List.of(routes("/", "svc")), List.of(secret("default", certB)));
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
            .until(() -> subjectOfNewConnection(proxy).contains("b.example"));
        assertEquals(certB.cert().getSerialNumber().toString(16), servedSerial(proxy), "and the rotated one");
        System.out.printf("SDS rotation: new handshakes used the new certificate %d ms after the push%n",
            (System.nanoTime() - pushed) / 1_000_000);
        assertEquals(200, old.get("/echo/a-again"), "the connection opened with the old certificate");

        // an unusable certificate is NACKed; the previous one stays
        String broken = "name: default\ntls_certificate:\n  certificate_chain: {inline_string: \"not a pem\"}\n"
            + "  private_key: {inline_string: \"not a key\"}\n";
        xds.set("4", List.of(edsCluster("svc")), List.of(endpoints("svc", backend.port())), List.of(listener),
            List.of(routes("/", "svc")), List.of(broken));
        await().atMost(Duration.ofSeconds(10)).until(() -> xds.nacks.stream()
            .anyMatch(n -> n.contains("unusable TLS secret")));
        assertTrue(subjectOfNewConnection(proxy).contains("b.example"));
        assertEquals(200, old.get("/echo/a-third"));
      }
    }
  }

  @Test
  void certificatesFromAnSdsSocketAsIstioServesThem() throws Exception {
    Path dir = Files.createTempDirectory("bowline-sds");
    Path socket = dir.resolve("socket");
    try (XdsTestServer xds = XdsTestServer.tcp(); XdsTestServer sds = XdsTestServer.uds(socket.toString())) {
      String sdsCluster = """
            - name: sds-grpc
              type: STATIC
              typed_extension_protocol_options:
                envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                  "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                  explicit_http_config: {http2_protocol_options: {}}
              load_assignment:
                cluster_name: sds-grpc
                endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: %s}}}}]}]
          """.formatted(socket);
      String istioSds = "{api_config_source: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: "
          + "sds-grpc}}], set_node_on_first_message_only: true, transport_api_version: V3}, initial_fetch_timeout: "
          + "0s, resource_api_version: V3}";
      sds.set("1", List.of(), List.of(), List.of(), List.of(), List.of(secret("default", certA)));
      xds.set("1", List.of(edsCluster("svc")), List.of(endpoints("svc", backend.port())),
          List.of(tlsListener(istioSds)), List.of(routes("/", "svc")));
      try (ProxyHarness proxy = ProxyHarness.start(xds.bootstrap("DELTA_GRPC", sdsCluster), Map.of())) {
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
        try (TlsClient c = new TlsClient(proxy.port("https"))) {
          assertTrue(c.subject().contains("a.example"), c.subject());
          assertEquals(200, c.get("/echo/istio-sds"));
        }
        sds.set("2", List.of(), List.of(), List.of(), List.of(), List.of(secret("default", certB)));
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
            .until(() -> subjectOfNewConnection(proxy).contains("b.example"));
      }
    } finally {
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }
}
