package io.bowline.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestCerts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Envoy's {@code ssl.*} stats of listeners and clusters, from real handshakes: each way a client can fail the
 * listener's mutual TLS lands in its own counter, the successful ones name their cipher, version and curve, and a
 * cluster counts its handshakes with its hosts, a refused server name included.
 */
@ExtendWith(LeakGuard.class)
class TlsStatsIT {
  private static final String ID = "spiffe://cluster.local/ns/default/sa/client";
  private static final String YAML = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: mtls
          stat_prefix: mtls
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
            filters: &relay
            - name: envoy.filters.network.tcp_proxy
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: in, cluster: good}
        - name: optional
          stat_prefix: optional
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                common_tls_context:
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
            filters: *relay
        - name: plain
          stat_prefix: plain
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: out, cluster: wrong_name}
        clusters:
        - CLUSTER_GOOD
        - CLUSTER_WRONG
      """;
  private static final String CLUSTER = """
      name: NAME
          type: STATIC
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
              common_tls_context:
                validation_context:
                  trusted_ca: {inline_string: ${UPSTREAM_CA}}
                  match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "SAN"}}]
          load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${UPSTREAM}}}}}]}]}""";

  static TestCerts.Identity server;
  static TestCerts.Identity client;
  static TestCerts.Identity upstream;
  static TestCerts.Identity foreign;
  static SSLServerSocket upstreamServer;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    server = TestCerts.identity("proxy.default.svc", "spiffe://cluster.local/ns/default/sa/proxy");
    client = TestCerts.identity("client.default.svc", ID);
    foreign = TestCerts.identity("f.default.svc", "spiffe://evil.example/ns/default/sa/x"); // trusted, wrong domain
    upstream = TestCerts.identity("db.default.svc", "spiffe://cluster.local/ns/default/sa/db");
    upstreamServer = (SSLServerSocket) upstream.sslContext(server.certificate()).getServerSocketFactory()
        .createServerSocket(0, 10, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!upstreamServer.isClosed()) {
        try (SSLSocket s = (SSLSocket) upstreamServer.accept()) {
          s.setSoTimeout(5000);
          s.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          s.getInputStream().read();
        } catch (IOException e) {
          // a refused handshake, or the proxy went away: the next one
        }
      }
    }, "tls-upstream");
    t.setDaemon(true);
    t.start();
    String yaml = YAML
        .replace("CLUSTER_GOOD", CLUSTER.replace("NAME", "good").replace("SAN", "spiffe://cluster.local/ns/default/sa/db"))
        .replace("CLUSTER_WRONG", CLUSTER.replace("NAME", "wrong_name").replace("SAN", "spiffe://cluster.local/ns/x/sa/y"));
    proxy = ProxyHarness.start(yaml, Map.of(
        "CERT", TestCerts.Pem.yaml(server.pem().certificate()), "KEY", TestCerts.Pem.yaml(server.pem().privateKey()),
        "CAS", TestCerts.Pem.yaml(client.pem().certificate() + foreign.pem().certificate()),
        "UPSTREAM_CA", TestCerts.Pem.yaml(upstream.pem().certificate()), "UPSTREAM", upstreamServer.getLocalPort()));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    upstreamServer.close();
  }

  @Test
  void eachWayToFailMutualTlsHasItsCounter() throws Exception {
    assertEquals("hi", talk("mtls", client));
    proxy.awaitStat("listener.mtls.ssl.handshake", 1);
    assertEquals(1, proxy.stat("listener.mtls.ssl.versions.TLSv1.3"));
    String stats = proxy.admin("/stats");
    assertTrue(stats.contains("listener.mtls.ssl.ciphers.TLS_AES_") || stats.contains("listener.mtls.ssl.ciphers.TLS_CHACHA20"),
        stats);
    assertTrue(stats.contains("listener.mtls.ssl.curves."), stats);
    assertEquals(0, proxy.stat("listener.mtls.ssl.no_certificate"));
    assertTrue(proxy.stat("cluster.good.ssl.handshake") >= 1, "the proxy's own handshake with the host");

    assertThrows(IOException.class, () -> talk("mtls", null));
    proxy.awaitStat("listener.mtls.ssl.fail_verify_no_cert", 1);
    TestCerts.Identity untrusted = TestCerts.identity("client.default.svc", ID); // same names, another key
    assertThrows(IOException.class, () -> talk("mtls", untrusted));
    proxy.awaitStat("listener.mtls.ssl.fail_verify_error", 1);
    assertThrows(IOException.class, () -> talk("mtls", foreign));
    proxy.awaitStat("listener.mtls.ssl.fail_verify_san", 1);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port("mtls"))) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.setSoTimeout(5000);
      s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()); // plaintext: the proxy closes
    } catch (IOException e) {
      // reset rather than closed: as good
    }
    proxy.awaitStat("listener.mtls.ssl.connection_error", 1);
    assertEquals(1, proxy.stat("listener.mtls.ssl.fail_verify_error"));
    assertEquals(1, proxy.stat("listener.mtls.ssl.handshake"), "none of the failures is a handshake");
  }

  @Test
  void aClientWithoutCertificateWhereNoneIsRequired() throws Exception {
    assertEquals("hi", talk("optional", null));
    proxy.awaitStat("listener.optional.ssl.handshake", 1);
    assertEquals(1, proxy.stat("listener.optional.ssl.no_certificate"));
  }

  @Test
  void aClusterCountsTheServerNameItRefuses() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port("plain"))) {
      s.setSoTimeout(5000);
      assertEquals(-1, s.getInputStream().read(), "closed: the host's name is not the one the cluster wants");
    } catch (IOException e) {
      // reset rather than closed: as good
    }
    proxy.awaitStat("cluster.wrong_name.ssl.fail_verify_san", 1);
    assertEquals(0, proxy.stat("cluster.wrong_name.ssl.handshake"));
    assertEquals(0, proxy.stat("cluster.wrong_name.ssl.fail_verify_error"));
  }

  @Test
  void aListenerWithoutTlsHasNoSslStats() throws Exception {
    assertEquals(-1, proxy.stat("listener.plain.ssl.handshake"));
  }

  /** A line of the upstream's greeting through {@code listener}, with {@code identity} as the client's certificate. */
  private static String talk(String listener, TestCerts.Identity identity) throws Exception {
    var ctx = identity != null ? identity.sslContext(server.certificate()) : trustingOnly(server);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
        proxy.port(listener))) {
      s.setSoTimeout(5000);
      s.startHandshake();
      InputStream in = s.getInputStream();
      byte[] line = new byte[3];
      int n = in.readNBytes(line, 0, 3);
      if (n < 3) {
        throw new IOException("closed after " + n + " bytes");
      }
      return new String(line, 0, 2, StandardCharsets.US_ASCII);
    }
  }

  /** A client context that presents no certificate and trusts {@code peer}'s. */
  private static javax.net.ssl.SSLContext trustingOnly(TestCerts.Identity peer) throws Exception {
    java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("peer", peer.certificate());
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
    c.init(null, tmf.getTrustManagers(), null);
    return c;
  }
}
