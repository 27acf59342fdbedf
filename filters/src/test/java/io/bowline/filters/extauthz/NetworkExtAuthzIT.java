package io.bowline.filters.extauthz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * envoy.filters.network.ext_authz against a real gRPC authorizer: the connection is held while it is asked (a request
 * written right after the handshake waits, then is served), the authorizer sees both principals and the SNI, a
 * denied connection is closed with nothing sent upstream, and an authorizer that does not answer in time closes it.
 * (The timeout is 2 s: the first call sets the channel up, which on a loaded 2-core machine can take most of 0.5 s.)
 */
@ExtendWith(LeakGuard.class)
class NetworkExtAuthzIT {
  static final class Authorizer extends AuthorizationGrpc.AuthorizationImplBase {
    final List<CheckRequest> seen = new CopyOnWriteArrayList<>();

    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> done) {
      seen.add(request);
      String who = request.getAttributes().getSource().getPrincipal();
      if (who.endsWith("/sa/silent")) {
        return; // never answers
      }
      try {
        Thread.sleep(100); // a deliberate pause: the client's request arrives while the connection is held
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      int code = who.endsWith("/sa/sleep") ? 0 : 7;
      done.onNext(CheckResponse.newBuilder().setStatus(com.google.rpc.Status.newBuilder().setCode(code)).build());
      done.onCompleted();
    }
  }

  private static final String YAML = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: in
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
            filters:
            - name: envoy.filters.network.ext_authz
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz
                stat_prefix: inbound
                grpc_service: {envoy_grpc: {cluster_name: "outbound|9000||authz.local"}, timeout: 2s}
                include_tls_session: true
                include_peer_certificate: true
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: in
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        clusters:
        - name: backend
          type: STATIC
          load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        - name: "outbound|9000||authz.local"
          type: STATIC
          typed_extension_protocol_options:
            envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
              "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
              explicit_http_config: {http2_protocol_options: {}}
          load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
      """;

  @Test
  void theAuthorizerDecidesEachConnection() throws Exception {
    TestCerts.Identity server = TestCerts.identity("httpbin", "spiffe://cluster.local/ns/default/sa/httpbin");
    TestCerts.Identity sleep = TestCerts.identity("sleep", "spiffe://cluster.local/ns/default/sa/sleep");
    TestCerts.Identity other = TestCerts.identity("other", "spiffe://cluster.local/ns/default/sa/other");
    TestCerts.Identity silent = TestCerts.identity("silent", "spiffe://cluster.local/ns/default/sa/silent");
    Authorizer authorizer = new Authorizer();
    Server authz = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), YAML, Map.of("PORT", backend.port(),
            "AUTHZ", authz.getPort(), "CERT", TestCerts.Pem.yaml(server.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(server.pem().privateKey()), "CA", TestCerts.Pem.yaml(
                sleep.pem().certificate() + other.pem().certificate() + silent.pem().certificate())))) {
      int port = proxy.port("in");
      String ok = get(port, sleep, server);
      assertTrue(ok.startsWith("HTTP/1.1 200"), "held, asked, then served: " + ok);
      var asked = authorizer.seen.get(0).getAttributes();
      assertEquals("spiffe://cluster.local/ns/default/sa/sleep", asked.getSource().getPrincipal());
      assertEquals("spiffe://cluster.local/ns/default/sa/httpbin", asked.getDestination().getPrincipal());
      assertEquals("httpbin.default.svc", asked.getTlsSession().getSni());
      assertTrue(asked.getSource().getCertificate().startsWith("-----BEGIN%20CERTIFICATE-----"),
          asked.getSource().getCertificate());
      assertEquals("", get(port, other, server), "denied: closed");
      long start = System.nanoTime();
      assertEquals("", get(port, silent, server), "no answer within the timeout: closed");
      assertTrue((System.nanoTime() - start) / 1_000_000 < 4_500, "bounded by the 2 s timeout");
      assertEquals(1, backend.requestsTo("/echo"), "only the allowed connection's request went upstream");
      assertEquals(3, proxy.stat("ext_authz.inbound.total"));
      assertEquals(1, proxy.stat("ext_authz.inbound.ok"));
      assertEquals(1, proxy.stat("ext_authz.inbound.denied"));
      assertEquals(1, proxy.stat("ext_authz.inbound.error"));
      assertEquals(2, proxy.stat("ext_authz.inbound.cx_closed"));
      assertTrue(get(port, sleep, server).startsWith("HTTP/1.1 200"), "still serving");
    } finally {
      authz.shutdownNow();
    }
  }

  private static String get(int port, TestCerts.Identity client, TestCerts.Identity server) throws Exception {
    try (SSLSocket s = (SSLSocket) client.sslContext(server.certificate()).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      var p = s.getSSLParameters();
      p.setServerNames(List.of(new SNIHostName("httpbin.default.svc")));
      s.setSSLParameters(p);
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET /echo/x HTTP/1.1\r\nHost: httpbin\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    } catch (java.net.SocketException e) {
      return "";
    }
  }
}
