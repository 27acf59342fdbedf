package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Virtual host require_tls: plaintext requests are redirected to https (all, or external ones only). */
@ExtendWith(LeakGuard.class)
class RequireTlsIT {
  @Test
  void plaintextIsRedirectedToHttps() throws Exception {
    try (TestBackend backend = TestBackend.start()) {
      String yaml = """
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
                    stat_prefix: ingress
                    use_remote_address: true
                    route_config:
                      virtual_hosts:
                      - {name: all, domains: ["www.example"], require_tls: ALL, routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}
                      - {name: ext, domains: ["api.example"], require_tls: EXTERNAL_ONLY, routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}
                    http_filters:
                    - name: envoy.filters.http.router
                      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
            clusters:
            - name: backend
              type: STATIC
              load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
          """;
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("BACKEND", backend.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> all = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/a?x=1"))
            .header("host", "www.example").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(301, all.statusCode());
        assertEquals("https://www.example/echo/a?x=1", all.headers().firstValue("location").orElse(""));
        // an earlier hop in x-forwarded-for makes the request external (Envoy's rule), whatever it claims
        HttpResponse<String> external = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/b"))
            .header("host", "api.example").header("x-forwarded-for", "203.0.113.7")
            .header("x-envoy-internal", "true").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(301, external.statusCode());
        // a loopback client straight to the proxy is internal (RFC 1918 and loopback, without internal_address_config)
        HttpResponse<String> internal = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/c"))
            .header("host", "api.example").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, internal.statusCode());
      }
    }
  }
}
