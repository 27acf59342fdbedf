package io.bowline.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StatsPrometheusTest {
  @Test
  void envoysTagExtraction() {
    assertEquals(new StatsPrometheus.Tagged("envoy_cluster_upstream_rq",
        Map.of("envoy_cluster_name", "outbound|80||svc.ns.svc.cluster.local", "envoy_response_code", "200")),
        StatsPrometheus.defaultTags("cluster.outbound|80||svc.ns.svc.cluster.local.upstream_rq_200"));
    assertEquals(new StatsPrometheus.Tagged("envoy_http_downstream_rq_xx",
        Map.of("envoy_http_conn_manager_prefix", "ingress", "envoy_response_code_class", "2")),
        StatsPrometheus.defaultTags("http.ingress.downstream_rq_2xx"));
    assertEquals(new StatsPrometheus.Tagged("envoy_listener_downstream_cx_total",
        Map.of("envoy_listener_address", "0.0.0.0_10000")),
        StatsPrometheus.defaultTags("listener.0.0.0.0_10000.downstream_cx_total"));
    assertEquals(new StatsPrometheus.Tagged("envoy_listener_downstream_cx_total",
        Map.of("envoy_listener_address", "[__]_15001")),
        StatsPrometheus.defaultTags("listener.[__]_15001.downstream_cx_total"));
    assertEquals(new StatsPrometheus.Tagged("envoy_server_live", Map.of()), StatsPrometheus.defaultTags("server.live"));
  }

  /** Stats of more than one segment under dotted cluster names and listener addresses keep both whole. */
  @Test
  void multiSegmentStatsUnderDottedNames() {
    java.util.Set<String> clusters = java.util.Set.of("outbound|9080||ratings.default.svc.cluster.local", "a");
    assertEquals(new StatsPrometheus.Tagged("envoy_cluster_ssl_versions_TLSv1_3",
        Map.of("envoy_cluster_name", "outbound|9080||ratings.default.svc.cluster.local")),
        StatsPrometheus.defaultTags("cluster.outbound|9080||ratings.default.svc.cluster.local.ssl.versions.TLSv1.3",
            clusters));
    assertEquals(new StatsPrometheus.Tagged("envoy_cluster_circuit_breakers_default_cx_open",
        Map.of("envoy_cluster_name", "a")),
        StatsPrometheus.defaultTags("cluster.a.circuit_breakers.default.cx_open", clusters));
    assertEquals(new StatsPrometheus.Tagged("envoy_cluster_upstream_rq_total", Map.of("envoy_cluster_name", "b.c")),
        StatsPrometheus.defaultTags("cluster.b.c.upstream_rq_total", clusters), "an unknown name: all but the last");
    assertEquals(new StatsPrometheus.Tagged("envoy_listener_ssl_handshake",
        Map.of("envoy_listener_address", "10.0.0.1_15006")),
        StatsPrometheus.defaultTags("listener.10.0.0.1_15006.ssl.handshake", clusters));
    assertEquals(new StatsPrometheus.Tagged("envoy_listener_admin_downstream_cx_total", Map.of()),
        StatsPrometheus.defaultTags("listener.admin.downstream_cx_total", clusters), "no address: no tag (Envoy)");
  }

  @Test
  void rendersTypesAndHistograms() {
    Stats s = new Stats();
    s.counter("cluster.a.upstream_rq_total").inc();
    s.gauge("server.live").set(1);
    s.histogram("cluster.a.upstream_rq_time").recordNanos(3_000_000);
    String out = StatsPrometheus.render(s);
    assertTrue(out.contains("# TYPE envoy_cluster_upstream_rq_total counter"), out);
    assertTrue(out.contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\"} 1"), out);
    assertTrue(out.contains("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"5\"} 1"), out);
    assertTrue(out.contains("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"a\"} 1"), out);
  }

  @Test
  void statsConfigTagsAndMatcherAsEnvoyAppliesThem() {
    Stats s = new Stats();
    s.counter("cluster.outbound|80||svc.ns.svc.cluster.local.upstream_rq_200").inc();
    s.counter("http.10.0.0.1_8080.downstream_rq_total").inc();
    s.counter("listener_manager.lds.update_success").inc();
    s.counter("server.dropped_stat").inc();
    s.configure(new StatsConfig(java.util.List.of(
        new StatsConfig.TagExtractor("cluster_name",
            StatsConfig.compileTagRegex("^cluster\\.((.+?(\\..+?\\.svc\\.cluster\\.local)?)\\.)"), null),
        new StatsConfig.TagExtractor("response_code", StatsConfig.compileTagRegex("_rq(_(\\d{3}))$"), null),
        // Istio's own, with POSIX classes that Java's regex lacks
        new StatsConfig.TagExtractor("http_conn_manager_prefix", StatsConfig.compileTagRegex(
            "^http\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)"), null),
        new StatsConfig.TagExtractor("mesh", null, "m1")), false,
        name -> !name.startsWith("server.")));
    String out = StatsPrometheus.render(s);
    assertTrue(out.contains("envoy_cluster_upstream_rq{cluster_name=\"outbound|80||svc.ns.svc.cluster.local\","
        + "response_code=\"200\",mesh=\"m1\"} 1"), out);
    assertTrue(out.contains("envoy_http_downstream_rq_total{http_conn_manager_prefix=\"10.0.0.1_8080\",mesh=\"m1\"} 1"),
        out);
    assertTrue(out.contains("envoy_listener_manager_lds_update_success{mesh=\"m1\"} 1"), out);
    assertTrue(!out.contains("dropped_stat"), "stats_matcher hides it: " + out);
    assertTrue(!StatsChunks.render(s, null, false, false).contains("server.dropped_stat"));
  }

  /** Output longer than a chunk: every stat once, every family's TYPE line once. */
  @Test
  void rendersAcrossChunks() {
    Stats s = new Stats();
    for (int c = 0; c < 400; c++) {
      Stats.Scope scope = s.clusterScope("outbound|80||svc-" + c + ".ns.svc.cluster.local");
      for (int i = 0; i < 10; i++) {
        scope.counter("stat_" + i).inc();
      }
    }
    String out = StatsPrometheus.render(s);
    assertTrue(out.length() > 3 * 64 * 1024, "several chunks: " + out.length());
    for (int i = 0; i < 10; i++) {
      String family = "envoy_cluster_stat_" + i;
      assertEquals(1, out.split("# TYPE " + family + " counter\n", -1).length - 1, family);
      assertEquals(400, out.lines().filter(l -> l.startsWith(family + "{")).count(), family);
    }
    assertTrue(out.contains("envoy_cluster_stat_3{envoy_cluster_name=\"outbound|80||svc-399.ns.svc.cluster.local\"} 1"),
        "a dotted cluster name whole");
  }
}
