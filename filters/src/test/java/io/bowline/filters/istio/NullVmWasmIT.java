package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.bowline.xds.ConfigException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Istio's null-VM Wasm filters as older istiods send them: envoy.wasm.metadata_exchange sends this proxy's metadata
 * upstream, envoy.wasm.stats (JSON configuration in a StringValue) reports istio_requests_total; a real Wasm module
 * is refused by its field.
 */
@ExtendWith(LeakGuard.class)
class NullVmWasmIT {
  private static final String YAML = """
      node:
        id: sidecar~10.0.0.7~productpage-v1-abc.default~default.svc.cluster.local
        metadata: {WORKLOAD_NAME: productpage-v1, NAMESPACE: default, LABELS: {app: productpage, version: v1}}
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: http
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          traffic_direction: OUTBOUND
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: out
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: "outbound|9080||reviews.default.svc.cluster.local"}}]}]}
                http_filters:
                - name: istio.metadata_exchange
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                    config:
                      vm_config: {runtime: RUNTIME, code: {local: {inline_string: envoy.wasm.metadata_exchange}}}
                      configuration: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange}
                - name: istio.stats
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                    config:
                      root_id: stats_outbound
                      vm_config: {vm_id: stats_outbound, runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.stats}}}
                      configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: "{\\n  \\"debug\\": \\"false\\",\\n  \\"stat_prefix\\": \\"istio\\"\\n}\\n"}
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        clusters:
        - name: "outbound|9080||reviews.default.svc.cluster.local"
          type: STATIC
          load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
      """;

  @Test
  void istiosBuiltInPluginsRun() throws Exception {
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), YAML.replace("RUNTIME",
            "envoy.wasm.runtime.null"), Map.of("PORT", backend.port()))) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(proxy.uri("http", "/echo/r"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertEquals("sidecar~10.0.0.7~productpage-v1-abc.default~default.svc.cluster.local",
          r.headers().firstValue("x-echo-h-x-envoy-peer-metadata-id").orElseThrow(), "the exchange ran");
      String prom = proxy.admin("/stats/prometheus");
      assertTrue(prom.lines().anyMatch(l -> l.startsWith("istio_requests_total{") && l.contains("reporter=\"source\"")
          && l.contains("source_workload=\"productpage-v1\"") && l.matches(".* 1(\\.0)?")), prom);
    }
  }

  @Test
  void aRealWasmModuleIsRefusedByField() {
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> ProxyHarness.start(
        BuiltinFilters.registry(), YAML.replace("RUNTIME", "envoy.wasm.runtime.v8"), Map.of("PORT", 1)).close());
    Throwable t = e;
    while (t != null && !(t instanceof ConfigException)) {
      t = t.getCause();
    }
    assertTrue(t instanceof ConfigException c && c.fieldPath().endsWith("config.vm_config.runtime"), String.valueOf(e));
  }
}
