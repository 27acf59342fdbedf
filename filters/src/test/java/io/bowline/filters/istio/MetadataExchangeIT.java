package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two bowline sidecars in a row — productpage's outbound, reviews' inbound — learn each other through Istio's
 * metadata-exchange headers, and both report the call with both workloads named; neither the application behind
 * nor the client in front sees the exchange headers.
 */
@ExtendWith(LeakGuard.class)
class MetadataExchangeIT {
  private static String sidecar(String workload, String app, String direction, String cluster, String port) {
    return """
        node:
          id: sidecar~10.0.0.1~@W@-x.default~default.svc.cluster.local
          metadata: {WORKLOAD_NAME: "@W@", NAMESPACE: default, CLUSTER_ID: Kubernetes, LABELS: {app: "@A@", version: v1}}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            traffic_direction: @D@
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: s
                  route_config:
                    virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: "@C@"}}]}]
                  http_filters:
                  - name: istio.metadata_exchange
                    typed_config:
                      "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                      type_url: type.googleapis.com/io.istio.http.peer_metadata.Config
                      value: @X@
                  - name: istio.stats
                    typed_config: {"@type": type.googleapis.com/stats.PluginConfig}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: "@C@"
            type: STATIC
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @P@}}}}]}]}
        """.replace("@X@", direction.equals("OUTBOUND")
            // as istiod shapes them: outbound learns the upstream and announces itself upstream, inbound the reverse
            ? "{upstream_discovery: [{istio_headers: {}}, {workload_discovery: {}}], "
                + "upstream_propagation: [{istio_headers: {}}]}"
            : "{downstream_discovery: [{istio_headers: {}}, {workload_discovery: {}}], "
                + "downstream_propagation: [{istio_headers: {}}]}")
        .replace("@W@", workload).replace("@A@", app).replace("@D@", direction).replace("@C@", cluster)
        .replace("@P@", port);
  }

  @Test
  void sidecarsLearnEachOtherAndBothReport() throws Exception {
    try (TestBackend app = TestBackend.start();
        ProxyHarness reviews = ProxyHarness.start(BuiltinFilters.registry(),
            sidecar("reviews-v1", "reviews", "INBOUND", "inbound|9080||", Integer.toString(app.port())), Map.of());
        ProxyHarness productpage = ProxyHarness.start(BuiltinFilters.registry(),
            sidecar("productpage-v1", "productpage", "OUTBOUND", "outbound|9080||reviews.default.svc.cluster.local",
                Integer.toString(reviews.port("http"))), Map.of())) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(productpage.uri("http", "/echo/reviews"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertFalse(r.headers().firstValue("x-envoy-peer-metadata").isPresent(), "the client never sees the exchange");
      assertFalse(r.headers().firstValue("x-echo-h-x-envoy-peer-metadata").isPresent(),
          "the application never sees it either");
      String out = productpage.admin("/stats/prometheus");
      String in = reviews.admin("/stats/prometheus");
      for (String[] c : new String[][] {{out, "source"}, {in, "destination"}}) {
        String line = c[0].lines().filter(l -> l.startsWith("istio_requests_total{")).findFirst().orElseThrow();
        assertTrue(line.contains("reporter=\"" + c[1] + "\""), line);
        assertTrue(line.contains("source_workload=\"productpage-v1\""), line);
        assertTrue(line.contains("source_app=\"productpage\""), line);
        assertTrue(line.contains("destination_workload=\"reviews-v1\""), line);
        assertTrue(line.contains("destination_app=\"reviews\""), line);
        assertTrue(line.endsWith(" 1.0"), line);
      }
    }
  }
}
