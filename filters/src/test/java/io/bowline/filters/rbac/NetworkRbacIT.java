package io.bowline.filters.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * envoy.filters.network.rbac before tcp_proxy and before the HTTP connection manager: an admitted connection is
 * proxied, a refused one is closed before the backend sees a byte, and both are counted under the stat prefix.
 */
@ExtendWith(LeakGuard.class)
class NetworkRbacIT {
  private static String listener(String name, String action, String terminal) {
    return """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                  stat_prefix: NAME
                  rules: {action: ACTION, policies: {loopback: {permissions: [{any: true}], principals: [{remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]}}}
                  shadow_rules: {action: ALLOW, policies: {}}
                  shadow_rules_stat_prefix: istio_dry_run_allow_
        """.replace("NAME", name).replace("ACTION", action) + terminal;
  }

  private static final String TCP = """
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}
        """;

  private static final String HTTP = """
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: h
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        """;

  @Test
  void admittedConnectionsAreProxiedRefusedOnesClosed() throws Exception {
    String yaml = "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\nstatic_resources:\n"
        + "  listeners:\n" + listener("allowed", "ALLOW", TCP) + listener("denied", "DENY", TCP)
        + listener("deniedhttp", "DENY", HTTP) + """
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", backend.port()))) {
      assertTrue(exchange(proxy.port("allowed")).startsWith("HTTP/1.1 200"));
      assertEquals("", exchange(proxy.port("denied")), "closed without an answer");
      assertEquals("", exchange(proxy.port("deniedhttp")), "closed before the connection manager");
      assertEquals(1, backend.connections.get(), "only the admitted connection reached the backend");
      assertEquals(1, proxy.stat("allowed.rbac.allowed"));
      assertEquals(1, proxy.stat("denied.rbac.denied"));
      assertEquals(1, proxy.stat("deniedhttp.rbac.denied"));
      assertEquals(1, proxy.stat("allowed.rbac.istio_dry_run_allow_shadow_denied"), "an ALLOW with no policy denies");
    }
  }

  private static String exchange(int port) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET /size/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      byte[] buf = new byte[4096];
      int n = s.getInputStream().read(buf);
      return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.ISO_8859_1);
    } catch (java.net.SocketException e) {
      return ""; // reset: refused
    }
  }
}
