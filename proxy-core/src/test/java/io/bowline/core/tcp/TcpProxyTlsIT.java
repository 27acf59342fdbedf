package io.bowline.core.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestCerts;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * tcp_proxy to a cluster with an UpstreamTlsContext: the bytes go over mTLS (the server sees the proxy's SPIFFE
 * certificate), and a server whose SPIFFE id the cluster's SAN matcher refuses gets nothing and the client's
 * connection is closed — never plaintext where the config says TLS.
 */
@ExtendWith(LeakGuard.class)
class TcpProxyTlsIT {
  private static String listener(String name, String cluster) {
    return """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: NAME, cluster: "CLUSTER"}
        """.replace("NAME", name).replace("CLUSTER", cluster);
  }

  private static String cluster(String name, String expectedSan) {
    return """
          - name: "NAME"
            type: STATIC
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: outbound_.3306_._.mysql.default.svc.cluster.local
                common_tls_context:
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                  validation_context:
                    trusted_ca: {inline_string: ${CA}}
                    match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "SAN"}}]
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("NAME", name).replace("SAN", expectedSan);
  }

  @Test
  void bytesGoOverMutualTls() throws Exception {
    TestCerts.Identity mysql = TestCerts.identity("mysql", "spiffe://cluster.local/ns/default/sa/mysql");
    TestCerts.Identity app = TestCerts.identity("app", "spiffe://cluster.local/ns/default/sa/app");
    List<String> seen = new CopyOnWriteArrayList<>();
    SSLServerSocket server = (SSLServerSocket) mysql.sslContext(app.certificate()).getServerSocketFactory()
        .createServerSocket(0, 10, InetAddress.getLoopbackAddress());
    server.setNeedClientAuth(true);
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (SSLSocket s = (SSLSocket) server.accept()) {
          s.setSoTimeout(5000);
          String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
          var peer = (X509Certificate) s.getSession().getPeerCertificates()[0];
          seen.add(line + " from " + peer.getSubjectAlternativeNames().stream()
              .filter(n -> Integer.valueOf(6).equals(n.get(0))).map(n -> String.valueOf(n.get(1))).findFirst()
              .orElse("?"));
          s.getOutputStream().write(("echo " + line + "\n").getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        } catch (Exception e) {
          // a refused handshake: the next one
        }
      }
    });
    t.setDaemon(true);
    t.start();
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
        """ + listener("good", "outbound|3306||mysql") + listener("bad", "outbound|3306||impostor") + """
          clusters:
        """ + cluster("outbound|3306||mysql", "spiffe://cluster.local/ns/default/sa/mysql")
        + cluster("outbound|3306||impostor", "spiffe://cluster.local/ns/default/sa/db");
    try (server; ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", server.getLocalPort(),
        "CERT", TestCerts.Pem.yaml(app.pem().certificate()), "KEY", TestCerts.Pem.yaml(app.pem().privateKey()),
        "CA", TestCerts.Pem.yaml(mysql.pem().certificate())))) {
      assertEquals("echo SELECT 1", exchange(proxy.port("good"), "SELECT 1"));
      assertEquals(List.of("SELECT 1 from spiffe://cluster.local/ns/default/sa/app"), seen);
      assertEquals(null, exchange(proxy.port("bad"), "SELECT 2"), "closed: the server is not who the SAN says");
      assertEquals(1, seen.size(), "nothing reached the impostor");
      assertTrue(proxy.stat("cluster.outbound|3306||impostor.upstream_cx_connect_fail") >= 1);
    }
  }

  private static String exchange(int port, String line) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    } catch (java.net.SocketException e) {
      return null;
    }
  }
}
