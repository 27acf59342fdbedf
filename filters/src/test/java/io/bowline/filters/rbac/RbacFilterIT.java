package io.bowline.filters.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.bowline.xds.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * envoy.filters.http.rbac through a real proxy: ALLOW and DENY policies on paths, headers and addresses, the routed
 * (normalised) path so no dot-segment, double-slash or percent-encoding gets past a rule, repeated headers as Envoy
 * joins them, shadow rules with Istio's stat prefix, per-route replacement, and bad policies refused by field.
 */
@ExtendWith(LeakGuard.class)
class RbacFilterIT {
  private static String bootstrap(String rbac) {
    return """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  merge_slashes: true
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/open"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.rbac: {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config: @RBAC@
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("@RBAC@", rbac.replace("\n", " "));
  }

  private static final String ALLOW = """
      {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC,
       rules: {action: ALLOW, policies: {
         public: {permissions: [{url_path: {path: {prefix: /public/}}}], principals: [{remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]},
         admins: {permissions: [{and_rules: {rules: [{url_path: {path: {exact: /admin}}}, {header: {name: ":method", string_match: {exact: GET}}}]}}],
                  principals: [{header: {name: x-user, string_match: {exact: admin}}}]}}},
       shadow_rules: {action: DENY, policies: {all: {permissions: [{any: true}], principals: [{any: true}]}}},
       shadow_rules_stat_prefix: istio_dry_run_allow_}""";

  @Test
  void allowPoliciesOnTheRoutedPath() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), bootstrap(ALLOW),
            Map.of("PORT", backend.port()))) {
      int port = proxy.port("http");
      assertEquals(200, status(port, "GET /public/page HTTP/1.1\r\nHost: x\r\n\r\n"));
      String denied = exchange(port, "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(denied.startsWith("HTTP/1.1 403") && denied.endsWith("RBAC: access denied"), denied);
      assertEquals(200, status(port, "GET /admin HTTP/1.1\r\nHost: x\r\nx-user: admin\r\n\r\n"));
      assertEquals(403, status(port, "POST /admin HTTP/1.1\r\nHost: x\r\nx-user: admin\r\ncontent-length: 0\r\n\r\n"));
      // the path RBAC sees is the routed one: tricks that reach /admin are judged as /admin ...
      assertEquals(403, status(port, "GET /public/../admin HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(200, status(port, "GET /public/../admin HTTP/1.1\r\nHost: x\r\nx-user: admin\r\n\r\n"));
      assertEquals(403, status(port, "GET //admin HTTP/1.1\r\nHost: x\r\n\r\n"));
      // ... and what only looks like /public/ is not /public/
      assertEquals(403, status(port, "GET /public/%2e%2e/admin HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(403, status(port, "GET /PUBLIC/page HTTP/1.1\r\nHost: x\r\n\r\n"));
      // repeated headers are joined with ',' before matching, as Envoy does: "guest,admin" is not "admin"
      assertEquals(403, status(port, "GET /admin HTTP/1.1\r\nHost: x\r\nx-user: guest\r\nx-user: admin\r\n\r\n"));
      // a route whose RBACPerRoute has no rules turns enforcement off
      assertEquals(200, status(port, "GET /open/anything HTTP/1.1\r\nHost: x\r\n\r\n"));
      long denials = proxy.stat("http.in.rbac.denied");
      assertTrue(denials >= 6, "denied " + denials);
      assertEquals(3, proxy.stat("http.in.rbac.allowed"));
      assertTrue(proxy.stat("http.in.rbac.istio_dry_run_allow_shadow_denied") >= 9, "the shadow DENY-all counts all");
      assertEquals(0, proxy.stat("http.in.rbac.istio_dry_run_allow_shadow_allowed"));
      assertTrue(backend.requestsTo("/admin") == 2, "denied requests never reach the backend");
    }
  }

  @Test
  void denyPolicyStopsOnlyWhatItMatches() throws Exception {
    String deny = """
        {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC,
         rules: {action: DENY, policies: {
           no-debug: {permissions: [{url_path: {path: {prefix: /debug}}}, {header: {name: x-debug, present_match: true}}],
                      principals: [{not_id: {direct_remote_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}}]}}}}""";
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), bootstrap(deny),
            Map.of("PORT", backend.port()))) {
      int port = proxy.port("http");
      assertEquals(200, status(port, "GET /page HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(403, status(port, "GET /debug/vars HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(403, status(port, "GET /page HTTP/1.1\r\nHost: x\r\nx-debug: 1\r\n\r\n"));
      assertEquals(1, proxy.stat("http.in.rbac.allowed"));
      assertEquals(2, proxy.stat("http.in.rbac.denied"));
    }
  }

  @Test
  void unsupportedPartsAreRefusedByField() {
    Exception e = assertThrows(Exception.class, () -> ProxyHarness.start(BuiltinFilters.registry(), bootstrap("""
        {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC,
         rules: {action: ALLOW, policies: {p: {permissions: [{any: true}], principals: [{any: true}],
           condition: {const_expr: {bool_value: true}}}}}}"""), Map.of("PORT", 1)).close());
    ConfigException c = cause(e);
    assertEquals("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]"
        + ".typed_config.rules.policies[p].condition", c.fieldPath());
    e = assertThrows(Exception.class, () -> ProxyHarness.start(BuiltinFilters.registry(), bootstrap("""
        {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC,
         rules: {action: ALLOW, policies: {p: {permissions: [{any: true}],
           principals: [{remote_ip: {address_prefix: "not-an-ip", prefix_len: 8}}]}}}}"""), Map.of("PORT", 1)).close());
    assertTrue(cause(e).fieldPath().endsWith("principals[0].remote_ip.address_prefix"), cause(e).fieldPath());
  }

  /** One request on its own connection, closed by the proxy after the response: the whole response, read to EOF. */
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

  private static ConfigException cause(Throwable t) {
    for (Throwable x = t; x != null; x = x.getCause()) {
      if (x instanceof ConfigException c) {
        return c;
      }
    }
    throw new AssertionError("no ConfigException in " + t, t);
  }
}
