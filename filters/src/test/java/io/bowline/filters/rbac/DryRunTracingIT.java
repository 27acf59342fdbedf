package io.bowline.filters.rbac;

import static io.bowline.core.testing.LogFiles.awaitLines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's dry-run AuthorizationPolicy as it shows in traces: the RBAC filter's shadow result is dynamic metadata, and
 * the connection manager's metadata custom tags (`istio.authorization.dry_run.allow_policy.name` / `.result`, as
 * istiod writes them) put it on the request's span; access logs read it too ({@code %DYNAMIC_METADATA%}), with the
 * span's {@code %TRACE_ID%} and Envoy's {@code traceable_filter}.
 */
@ExtendWith(LeakGuard.class)
class DryRunTracingIT {
  private static final String YAML = """
      node: {id: "sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local", cluster: reviews}
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
                access_log:
                - name: envoy.access_loggers.file
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: ${ALL}
                    log_format: {text_format_source: {inline_string: "%REQ(:PATH)% %TRACE_ID% %DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_allow_shadow_engine_result)% %DYNAMIC_METADATA(envoy.filters.http.rbac:nothing)%\\n"}}
                - name: envoy.access_loggers.file
                  filter: {traceable_filter: {}}
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: ${TRACED}
                    log_format: {text_format_source: {inline_string: "%REQ(:PATH)%\\n"}}
                tracing:
                  random_sampling: {value: 100}
                  custom_tags:
                  - {tag: istio.authorization.dry_run.allow_policy.name, metadata: {kind: {request: {}}, metadata_key: {key: envoy.filters.http.rbac, path: [{key: istio_dry_run_allow_shadow_effective_policy_id}]}}}
                  - {tag: istio.authorization.dry_run.allow_policy.result, metadata: {kind: {request: {}}, metadata_key: {key: envoy.filters.http.rbac, path: [{key: istio_dry_run_allow_shadow_engine_result}]}}}
                  provider:
                    name: envoy.tracers.zipkin
                    typed_config: {"@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: zipkin, collector_endpoint: /api/v2/spans, collector_endpoint_version: HTTP_JSON}
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                http_filters:
                - name: envoy.filters.http.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                    shadow_rules:
                      action: ALLOW
                      policies:
                        ns[default]-policy[readers]-rule[0]:
                          permissions: [{url_path: {path: {prefix: /read}}}]
                          principals: [{any: true}]
                    shadow_rules_stat_prefix: istio_dry_run_allow_
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        clusters:
        - name: backend
          type: STATIC
          load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        - name: zipkin
          type: STATIC
          load_assignment: {cluster_name: zipkin, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${ZIPKIN}}}}}]}]}
      """;

  private static final String CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  @TempDir
  Path dir;

  @Test
  void theShadowResultIsOnTheSpanAndInTheAccessLog() throws Exception {
    Path all = dir.resolve("all.log");
    Path traced = dir.resolve("traced.log");
    List<JsonObject> spans = new CopyOnWriteArrayList<>();
    try (ScriptedBackend zipkin = ScriptedBackend.start(req -> {
          JsonArray a = JsonParser.parseString(req.content().toString(StandardCharsets.UTF_8)).getAsJsonArray();
          a.forEach(e -> spans.add(e.getAsJsonObject()));
          var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.ACCEPTED);
          r.headers().set("content-length", 0);
          return r;
        });
        TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), YAML, Map.of("PORT", backend.port(),
            "ZIPKIN", zipkin.port(), "ALL", all, "TRACED", traced), "--file-flush-interval-msec", "50")) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String path : new String[] {"/read/1", "/write/1"}) {
        assertEquals(200, http.send(HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10))
            .build(), HttpResponse.BodyHandlers.discarding()).statusCode(), "a dry run never denies");
      }
      // a caller that decided not to sample: traced (its trace id is kept) but not traceable, and no span
      assertEquals(200, http.send(HttpRequest.newBuilder(proxy.uri("http", "/read/unsampled"))
          .header("b3", CALLER_TRACE + "-00f067aa0ba902b7-0").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (spans.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(2, spans.size());
      JsonObject read = spans.stream().filter(s -> s.getAsJsonObject("tags").get("http.url").getAsString()
          .endsWith("/read/1")).findFirst().orElseThrow().getAsJsonObject("tags");
      assertEquals("ns[default]-policy[readers]-rule[0]",
          read.get("istio.authorization.dry_run.allow_policy.name").getAsString());
      assertEquals("allowed", read.get("istio.authorization.dry_run.allow_policy.result").getAsString());
      JsonObject write = spans.stream().filter(s -> s.getAsJsonObject("tags").get("http.url").getAsString()
          .endsWith("/write/1")).findFirst().orElseThrow().getAsJsonObject("tags");
      assertEquals("denied", write.get("istio.authorization.dry_run.allow_policy.result").getAsString());
      assertFalse(write.has("istio.authorization.dry_run.allow_policy.name"), "no policy matched: no name");

      List<String> lines = awaitLines(all, 3);
      String readTrace = spans.stream().filter(sp -> sp.getAsJsonObject("tags").get("http.url").getAsString()
          .endsWith("/read/1")).findFirst().orElseThrow().get("traceId").getAsString();
      assertEquals("/read/1 " + readTrace + " allowed -", lines.get(0), "TRACE_ID is the span's; a missing key is -");
      assertEquals("denied", lines.get(1).split(" ")[2]);
      assertEquals("/read/unsampled " + CALLER_TRACE + " allowed -", lines.get(2));
      assertEquals(List.of("/read/1", "/write/1"), awaitLines(traced, 2), "traceable_filter: sampled requests only");
    }
  }
}
