package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Istio's inbound TCP chain for mTLS peers (istio_authn, the TCP metadata exchange, network RBAC, tcp_proxy), selected
 * by the istio-peer-exchange ALPN: a client sidecar's preamble is taken off the stream (the backend sees only the
 * application's bytes), this proxy's own preamble — its node id and metadata — opens the stream back; a peer without
 * the exchange, or a client that did not negotiate it, passes untouched; an oversized preamble closes the connection.
 */
@ExtendWith(LeakGuard.class)
class TcpMetadataExchangeIT {
  private static final String NODE_ID = "sidecar~10.0.0.9~mysql-0.default~default.svc.cluster.local";
  private static final String YAML = """
      node:
        id: sidecar~10.0.0.9~mysql-0.default~default.svc.cluster.local
        metadata: {WORKLOAD_NAME: mysql, NAMESPACE: default, LABELS: {app: mysql}}
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
          - filter_chain_match: {transport_protocol: tls, application_protocols: [istio-peer-exchange, istio]}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                require_client_certificate: true
                common_tls_context:
                  alpn_protocols: [istio-peer-exchange, h2, http/1.1]
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                  validation_context: {trusted_ca: {inline_string: ${CA}}}
            filters:
            - name: istio_authn
              typed_config: {"@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.network.authn.Config}
            - name: istio.metadata_exchange
              typed_config: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, protocol: istio-peer-exchange}
            - name: envoy.filters.network.rbac
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                stat_prefix: tcp.
                rules:
                  policies:
                    ns[default]-policy[mysql-clients]-rule[0]:
                      permissions: [{any: true}]
                      principals: [{filter_state: {key: io.istio.peer_principal, string_match: {exact: "spiffe://cluster.local/ns/default/sa/app"}}}]
            - name: istio.stats
              typed_config: {"@type": type.googleapis.com/stats.PluginConfig, tcp_reporting_duration: 0.1s}
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: "inbound|3306||"
                cluster: "inbound|3306||"
        clusters:
        - name: "inbound|3306||"
          type: STATIC
          load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
      """;

  /** A client sidecar's preamble, built here independently of the proxy's code. */
  static byte[] preamble(String id, int claimedSize) {
    byte[] any = Any.pack(Struct.newBuilder()
        .putFields("x-envoy-peer-metadata-id", Value.newBuilder().setStringValue(id).build())
        .putFields("x-envoy-peer-metadata", Value.newBuilder().setStructValue(Struct.newBuilder()
            .putFields("NAME", Value.newBuilder().setStringValue("app-1").build())).build())
        .build()).toByteArray();
    return ByteBuffer.allocate(8 + any.length).putInt(0x3D230467).putInt(claimedSize < 0 ? any.length : claimedSize)
        .put(any).array();
  }

  @Test
  void preamblesAreExchangedAndStripped() throws Exception {
    TestCerts.Identity server = TestCerts.identity("mysql", "spiffe://cluster.local/ns/default/sa/mysql");
    TestCerts.Identity app = TestCerts.identity("app", "spiffe://cluster.local/ns/default/sa/app");
    try (ServerSocket echo = echoServer()) {
      try (ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), YAML, Map.of("PORT",
          echo.getLocalPort(), "CERT", TestCerts.Pem.yaml(server.pem().certificate()),
          "KEY", TestCerts.Pem.yaml(server.pem().privateKey()), "CA", TestCerts.Pem.yaml(app.pem().certificate())))) {
        int port = proxy.port("virtualInbound");
        // a client sidecar: its preamble, then the application's bytes
        try (SSLSocket s = connect(port, app, server, "istio-peer-exchange", "istio")) {
          OutputStream out = s.getOutputStream();
          out.write(preamble("sidecar~10.0.0.5~app-1.default~default.svc.cluster.local", -1));
          out.write("SELECT 1".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          DataInputStream in = new DataInputStream(s.getInputStream());
          assertEquals(0x3D230467, in.readInt(), "the proxy's preamble opens the stream");
          byte[] any = new byte[in.readInt()];
          in.readFully(any);
          Struct ours = Any.parseFrom(any).unpack(Struct.class);
          assertEquals(NODE_ID, ours.getFieldsOrThrow("x-envoy-peer-metadata-id").getStringValue());
          assertEquals("mysql", ours.getFieldsOrThrow("x-envoy-peer-metadata").getStructValue()
              .getFieldsOrThrow("WORKLOAD_NAME").getStringValue());
          assertEquals("SELECT 1", read(in, 8), "the backend saw only the application's bytes");
        }
        // a peer without the exchange: its bytes pass untouched (after the proxy's preamble)
        try (SSLSocket s = connect(port, app, server, "istio-peer-exchange")) {
          s.getOutputStream().write("PING".getBytes(StandardCharsets.US_ASCII));
          DataInputStream in = new DataInputStream(s.getInputStream());
          assertEquals(0x3D230467, in.readInt());
          in.readFully(new byte[in.readInt()]);
          assertEquals("PING", read(in, 4));
        }
        // a client that did not negotiate the exchange: no preamble either way
        try (SSLSocket s = connect(port, app, server, "istio")) {
          s.getOutputStream().write("PONG".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          assertEquals("PONG", read(s.getInputStream(), 4));
        }
        // a preamble claiming a megabyte: closed
        try (SSLSocket s = connect(port, app, server, "istio-peer-exchange")) {
          s.getOutputStream().write(preamble("x", 1 << 20));
          DataInputStream in = new DataInputStream(s.getInputStream());
          in.readInt();
          in.readFully(new byte[in.readInt()]);
          assertEquals(-1, in.read(), "closed");
        }
        assertTrue(proxy.stat("tcp.rbac.allowed") >= 4);
      }
    }
  }

  private static SSLSocket connect(int port, TestCerts.Identity client, TestCerts.Identity server, String... alpn)
      throws Exception {
    SSLSocket s = (SSLSocket) client.sslContext(server.certificate()).getSocketFactory().createSocket("127.0.0.1",
        port);
    var p = s.getSSLParameters();
    p.setApplicationProtocols(alpn);
    s.setSSLParameters(p);
    s.setSoTimeout(5000);
    s.startHandshake();
    return s;
  }

  private static String read(InputStream in, int n) throws Exception {
    byte[] b = new byte[n];
    new DataInputStream(in).readFully(b);
    return new String(b, StandardCharsets.US_ASCII);
  }

  /** An echo server for the inbound cluster: each connection's bytes come straight back. */
  static ServerSocket echoServer() throws Exception {
    ServerSocket echo = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!echo.isClosed()) {
        try {
          Socket s = echo.accept();
          Thread w = new Thread(() -> {
            try (s) {
              s.getInputStream().transferTo(s.getOutputStream());
            } catch (Exception e) {
              // the client went away
            }
          });
          w.setDaemon(true);
          w.start();
        } catch (Exception e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return echo;
  }

  private static final String CLIENT_SIDECAR = """
      node:
        id: sidecar~10.0.0.5~app-1.default~default.svc.cluster.local
        metadata: {WORKLOAD_NAME: app, NAMESPACE: default}
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: outbound_3306
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          traffic_direction: OUTBOUND
          filter_chains:
          - filters:
            - name: istio.stats
              typed_config: {"@type": type.googleapis.com/stats.PluginConfig, tcp_reporting_duration: 0.1s}
            - name: envoy.filters.network.tcp_proxy
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: "outbound|3306||mysql", cluster: "outbound|3306||mysql.default.svc.cluster.local"}
        clusters:
        - name: "outbound|3306||mysql.default.svc.cluster.local"
          type: STATIC
          filters:
          - name: istio.metadata_exchange
            typed_config: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, protocol: istio-peer-exchange}
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
              sni: outbound_.3306_._.mysql.default.svc.cluster.local
              common_tls_context:
                alpn_protocols: [istio-peer-exchange, istio]
                tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                validation_context:
                  trusted_ca: {inline_string: ${CA}}
                  match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "spiffe://cluster.local/ns/default/sa/mysql"}}]
          load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${SERVER}}}}}]}]}
      """;

  /**
   * Sidecar to sidecar: the client's outbound cluster (Istio's shape, with the exchange as an upstream filter) and the
   * server's inbound chain each send their preamble and take the other's off, so the application on each end sees
   * only the other application's bytes.
   */
  @Test
  void twoSidecarsExchangeAndTheApplicationsSeeOnlyTheirBytes() throws Exception {
    TestCerts.Identity server = TestCerts.identity("mysql", "spiffe://cluster.local/ns/default/sa/mysql");
    TestCerts.Identity app = TestCerts.identity("app", "spiffe://cluster.local/ns/default/sa/app");
    try (ServerSocket echo = echoServer();
        ProxyHarness inbound = ProxyHarness.start(BuiltinFilters.registry(), YAML, Map.of("PORT",
            echo.getLocalPort(), "CERT", TestCerts.Pem.yaml(server.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(server.pem().privateKey()), "CA", TestCerts.Pem.yaml(app.pem().certificate())));
        ProxyHarness outbound = ProxyHarness.start(BuiltinFilters.registry(), CLIENT_SIDECAR, Map.of(
            "SERVER", inbound.port("virtualInbound"), "CERT", TestCerts.Pem.yaml(app.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(app.pem().privateKey()), "CA", TestCerts.Pem.yaml(server.pem().certificate())));
        Socket client = new Socket("127.0.0.1", outbound.port("outbound_3306"))) {
      client.setSoTimeout(5000);
      client.getOutputStream().write("SELECT 1;".getBytes(StandardCharsets.US_ASCII));
      assertEquals("SELECT 1;", read(client.getInputStream(), 9), "no preamble bytes on either application's side");
      client.getOutputStream().write("SELECT 2;".getBytes(StandardCharsets.US_ASCII));
      assertEquals("SELECT 2;", read(client.getInputStream(), 9));
      assertTrue(inbound.stat("tcp.rbac.allowed") >= 1, "the server sidecar saw the client's SPIFFE id");
      Thread.sleep(400); // a few tcp_reporting_duration periods
      // each side's Istio TCP metrics name the other workload, learned from its preamble
      String in = inbound.admin("/stats/prometheus");
      assertTrue(in.lines().anyMatch(l -> l.startsWith("istio_tcp_connections_opened_total{")
          && l.contains("reporter=\"destination\"") && l.contains("source_workload=\"app\"")
          && l.contains("destination_workload=\"mysql\"")), in);
      String out = outbound.admin("/stats/prometheus");
      assertTrue(out.lines().anyMatch(l -> l.startsWith("istio_tcp_sent_bytes_total{")
          && l.contains("reporter=\"source\"") && l.contains("source_workload=\"app\"")
          && l.contains("destination_workload=\"mysql\"")), out);
    }
  }
}
