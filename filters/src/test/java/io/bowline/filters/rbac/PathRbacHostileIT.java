package io.bowline.filters.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ../shared/HOSTILE-INPUTS.md's PATH and HDR rows against an Istio-shaped DENY policy ("deny /admin and /admin/*"
 * from anyone, and anything from 1.2.3.4): route and RBAC judge the same normalised path, so no dot-segment,
 * double-slash, escaped-slash or backslash trick reaches /admin, and at the edge (use_remote_address, no trusted
 * hops) a forged X-Forwarded-For is not the client. (Without use_remote_address Envoy takes the client from XFF, as
 * a sidecar behind a gateway must, and so does bowline.)
 */
@ExtendWith(LeakGuard.class)
class PathRbacHostileIT {
  private static String listener(String name, String escapedSlashes) {
    return """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: NAME
                  use_remote_address: true
                  normalize_path: true
                  merge_slashes: true
                  path_with_escaped_slashes_action: ACTION
                  route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        action: DENY
                        policies:
                          ns[default]-policy[deny-admin]-rule[0]:
                            permissions: [{or_rules: {rules: [{url_path: {path: {exact: /admin}}}, {url_path: {path: {prefix: /admin/}}}]}}]
                            principals: [{any: true}]
                          ns[default]-policy[deny-ip]-rule[0]:
                            permissions: [{any: true}]
                            principals: [{remote_ip: {address_prefix: 1.2.3.4, prefix_len: 32}}]
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.replace("NAME", name).replace("ACTION", escapedSlashes);
  }

  @Test
  void noPathTrickReachesAdmin() throws Exception {
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
        """ + listener("reject", "REJECT_REQUEST") + listener("redirect", "UNESCAPE_AND_REDIRECT")
        + listener("forward", "UNESCAPE_AND_FORWARD") + """
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", backend.port()))) {
      int reject = proxy.port("reject");
      int redirect = proxy.port("redirect");
      int forward = proxy.port("forward");
      for (String[] row : new String[][] {
          {"PATH-01", "/public/../admin"}, {"PATH-01", "/./admin"}, {"PATH-01", "/public/%2e%2e/admin"},
          {"PATH-01", "/public/%2E%2E/admin/x"}, {"PATH-02", "//admin"}, {"PATH-02", "/admin//x"},
          {"PATH-06", "/public/..\\admin"}}) {
        for (int port : new int[] {reject, forward}) {
          int s = status(port, "GET " + row[1] + " HTTP/1.1\r\nHost: x\r\n\r\n");
          assertTrue(s == 403 || s == 400, row[0] + " " + row[1] + ": " + s);
        }
      }
      // PATH-03: an escaped slash is refused, redirected to the unescaped path, or judged unescaped; never literal
      assertEquals(400, status(reject, "GET /admin%2Fx HTTP/1.1\r\nHost: x\r\n\r\n"), "PATH-03 REJECT_REQUEST");
      String moved = exchange(redirect, "GET /admin%2fx HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(307, RawHttp.status(moved), moved);
      assertTrue(moved.toLowerCase().contains("location: /admin/x"), moved);
      assertEquals(403, status(redirect, "GET /admin/x HTTP/1.1\r\nHost: x\r\n\r\n"), "where the redirect leads");
      assertEquals(403, status(forward, "GET /admin%2Fx HTTP/1.1\r\nHost: x\r\n\r\n"), "PATH-03 UNESCAPE_AND_FORWARD");
      assertEquals(403, status(forward, "GET /admin%5Cx HTTP/1.1\r\nHost: x\r\n\r\n"), "PATH-03 %5C");
      // PATH-10: the query is left alone, and url_path sees the path only
      String query = exchange(forward, "GET /echo/public?next=../admin&p=%2Fadmin HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(200, RawHttp.status(query), query);
      assertTrue(query.contains("x-echo-uri: /echo/public?next=../admin&p=%2Fadmin"), query);
      // HDR-03: a client's X-Forwarded-For (no trusted hops) is not its address: remote_ip is the peer
      assertEquals(200, status(forward, "GET /echo/xff HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"));
      assertEquals(0, backend.requestsTo("/admin"), "nothing reached /admin");
      assertTrue(proxy.stat("http.reject.rbac.denied") >= 7 && proxy.stat("http.forward.rbac.denied") >= 9);
    }
  }

  private static String exchange(int port, String request) throws Exception {
    String closing = request.substring(0, request.length() - 2) + "connection: close\r\n\r\n";
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(closing.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }

  private static int status(int port, String request) throws Exception {
    return RawHttp.status(exchange(port, request));
  }
}
