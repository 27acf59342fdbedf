package io.bowline.core.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tracing through a real proxy: spans exported over OTLP/gRPC to a receiver started here (OpenTelemetry's own
 * TraceService), the W3C context carried from the client through the proxy to the upstream as parent and child,
 * Envoy's sampling (the caller's flag, random, forced), Envoy's span attributes and custom tags; and the Zipkin
 * tracer's B3 headers and v2 JSON export.
 */
@ExtendWith(LeakGuard.class)
class TracingIT {
  private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CLIENT_SPAN = "00f067aa0ba902b7";
  private static final String RID_3 = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
  private static final String RID_4 = "6fa459ea-ee8a-4ca4-894e-db77e160355e";

  /** An OTLP receiver: the spans it was sent. */
  static final class Receiver extends TraceServiceGrpc.TraceServiceImplBase implements AutoCloseable {
    final List<Span> spans = new CopyOnWriteArrayList<>();
    final List<ExportTraceServiceRequest> requests = new CopyOnWriteArrayList<>();
    final Server server;

    Receiver() throws Exception {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this).build().start();
    }

    int port() {
      return server.getPort();
    }

    @Override
    public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> done) {
      requests.add(request);
      request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> spans.addAll(ss.getSpansList())));
      done.onNext(ExportTraceServiceResponse.getDefaultInstance());
      done.onCompleted();
    }

    @Override
    public void close() {
      server.shutdownNow();
    }
  }

  private static ScriptedBackend echoingBackend(List<Map<String, String>> seen) throws Exception {
    return ScriptedBackend.start(req -> {
      seen.add(req.headers().entries().stream().collect(Collectors.toMap(e -> e.getKey().toLowerCase(),
          Map.Entry::getValue, (a, b) -> a)));
      int code = req.uri().startsWith("/fail") ? 503 : 200;
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
          Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
      r.headers().set("content-length", 2);
      return r;
    });
  }

  private static String bootstrap(String direction, String tracing, String collectorCluster) {
    return """
        node: {id: node-7, cluster: reviews, locality: {zone: zone-a}}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            traffic_direction: DIRECTION
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  tracing: TRACING
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/decorated"}
                        route: {cluster: backend}
                        decorator: {operation: reviews-read}
                        metadata: {filter_metadata: {acme.routes: {owner: reviews-team}}}
                        tracing: {custom_tags: [{tag: route-tag, literal: {value: r1}}]}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            metadata: {filter_metadata: {acme.clusters: {tier: gold}}}
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}},
              metadata: {filter_metadata: {istio: {workload: "reviews-v1;default;reviews;v1;Kubernetes"}}}}]}]}
          - name: collector
            type: STATIC
            load_assignment: {cluster_name: collector, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${COLLECTOR}}}}}]}]}
        """.replace("DIRECTION", direction).replace("TRACING", tracing).replace("COLLECTOR_CLUSTER", collectorCluster);
  }

  @Test
  void otlpSpansWithW3cPropagationAndEnvoysSampling() throws Exception {
    List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
    String tracing = "{random_sampling: {value: 0}, custom_tags: [{tag: team, literal: {value: checkout}}, "
        + "{tag: tenant, request_header: {name: x-tenant, default_value: none}}, "
        + "{tag: owner, metadata: {kind: {route: {}}, metadata_key: {key: acme.routes, path: [{key: owner}]}, "
        + "default_value: nobody}}, "
        + "{tag: tier, metadata: {kind: {cluster: {}}, metadata_key: {key: acme.clusters, path: [{key: tier}]}}}, "
        + "{tag: workload, metadata: {kind: {host: {}}, metadata_key: {key: istio, path: [{key: workload}]}}}], "
        + "provider: {name: "
        + "envoy.tracers.opentelemetry, typed_config: {\"@type\": type.googleapis.com/envoy.config.trace.v3"
        + ".OpenTelemetryConfig, service_name: reviews-proxy, grpc_service: {envoy_grpc: {cluster_name: collector}, "
        + "timeout: 2s}}}}";
    try (Receiver receiver = new Receiver(); ScriptedBackend backend = echoingBackend(seen);
        ProxyHarness proxy = ProxyHarness.start(bootstrap("INBOUND", tracing, "collector"),
            Map.of("PORT", backend.port(), "COLLECTOR", receiver.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      // 1: a sampled caller: its trace continues through the proxy, whatever random sampling says
      send(client, proxy, "/decorated/1", Map.of("traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01",
          "tracestate", "vendor=x", "x-tenant", "acme", "x-request-id", "rid-1"));
      // 2: no caller context, random sampling 0: not traced, but the upstream still gets an unsampled context
      send(client, proxy, "/plain", Map.of());
      // 3: forced by an internal caller (its one x-forwarded-for address is private); an external one loses the header
      HttpResponse<Void> forcedResponse = send(client, proxy, "/fail", Map.of("x-envoy-force-trace", "1",
          "x-request-id", RID_3, "x-forwarded-for", "10.0.0.5"));
      send(client, proxy, "/fail", Map.of("x-envoy-force-trace", "1", "x-request-id", RID_4));
      // 4: forced, but with a request id Envoy cannot draw from (not hex): not traced, as in Envoy
      send(client, proxy, "/fail", Map.of("x-envoy-force-trace", "1", "x-request-id", "rid-5",
          "x-forwarded-for", "10.0.0.5"));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (receiver.spans.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(2, receiver.spans.size(), "spans: " + receiver.spans);
      Span first = receiver.spans.stream().filter(s -> attr(s, "guid:x-request-id").equals("rid-1")).findFirst()
          .orElseThrow();
      assertEquals(CLIENT_TRACE, hex(first.getTraceId().toByteArray()));
      assertEquals(CLIENT_SPAN, hex(first.getParentSpanId().toByteArray()));
      assertEquals("vendor=x", first.getTraceState());
      String upstream = seen.get(0).get("traceparent");
      assertEquals("00-" + CLIENT_TRACE + "-" + hex(first.getSpanId().toByteArray()) + "-01", upstream,
          "the upstream's parent is the proxy's span");
      assertEquals("vendor=x", seen.get(0).get("tracestate"));
      assertEquals("reviews-read", first.getName(), "the route's decorator names the span");
      assertEquals(Span.SpanKind.SPAN_KIND_SERVER, first.getKind(), "ingress");
      assertEquals("GET", attr(first, "http.method"));
      assertTrue(attr(first, "http.url").matches("http://127\\.0\\.0\\.1:\\d+/decorated/1"), attr(first, "http.url"));
      assertEquals("200", attr(first, "http.status_code"));
      assertEquals("backend", attr(first, "upstream_cluster"));
      assertEquals("127.0.0.1:" + backend.port(), attr(first, "upstream_address"));
      assertEquals("node-7", attr(first, "node_id"));
      assertEquals("zone-a", attr(first, "zone"));
      assertEquals("proxy", attr(first, "component"));
      assertEquals("-", attr(first, "response_flags"));
      assertEquals("checkout", attr(first, "team"));
      assertEquals("acme", attr(first, "tenant"));
      assertEquals("r1", attr(first, "route-tag"));
      assertEquals("reviews-team", attr(first, "owner"), "the route's metadata");
      assertEquals("gold", attr(first, "tier"), "the cluster's metadata");
      assertEquals("reviews-v1;default;reviews;v1;Kubernetes", attr(first, "workload"), "the endpoint's metadata");
      assertTrue(first.getEndTimeUnixNano() > first.getStartTimeUnixNano());

      String unsampled = seen.get(1).get("traceparent");
      assertTrue(unsampled != null && unsampled.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00"), "" + unsampled);

      // the decision is packed into the id (pack_trace_reason): 'a', forced, in the version digit
      String forcedId = RID_3.substring(0, 14) + "a" + RID_3.substring(15);
      assertEquals(forcedId, seen.get(2).get("x-request-id"));
      assertEquals(forcedId, forcedResponse.headers().firstValue("x-request-id").orElse(null),
          "a forced trace's id comes back in the response");
      assertEquals(RID_4, seen.get(3).get("x-request-id"), "not forced: the id unchanged");
      assertTrue(seen.get(4).get("traceparent").endsWith("-00"), "no usable id, no trace");
      Span forced = receiver.spans.stream().filter(s -> attr(s, "guid:x-request-id").equals(forcedId)).findFirst()
          .orElseThrow();
      assertEquals("ingress", forced.getName());
      assertEquals("503", attr(forced, "http.status_code"));
      assertEquals("true", attr(forced, "error"));
      assertEquals(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR, forced.getStatus().getCode());
      assertEquals("none", attr(forced, "tenant"), "the header's default");
      assertEquals("nobody", attr(forced, "owner"), "a route without that metadata: the default");
      assertTrue(forced.getParentSpanId().isEmpty(), "a root span");
      assertEquals("reviews-proxy", receiver.requests.get(0).getResourceSpans(0).getResource().getAttributesList()
          .stream().filter(kv -> kv.getKey().equals("service.name")).findFirst().orElseThrow().getValue()
          .getStringValue());
      assertEquals(2, proxy.stat("tracing.opentelemetry.spans_sent"));
      assertEquals(0, proxy.stat("tracing.opentelemetry.spans_dropped"));
    }
  }

  /**
   * spawn_upstream_span: each upstream attempt is a client span of its own, a child of the proxy's downstream span
   * (a server span, egress listener or not), and the upstream sees the attempt's span as its parent; a retried
   * attempt ends with the status it got.
   */
  @Test
  void spawnedUpstreamSpansOnePerAttempt() throws Exception {
    List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    String tracing = "{random_sampling: {value: 100}, spawn_upstream_span: true, provider: {name: "
        + "envoy.tracers.opentelemetry, typed_config: {\"@type\": type.googleapis.com/envoy.config.trace.v3"
        + ".OpenTelemetryConfig, grpc_service: {envoy_grpc: {cluster_name: collector}}}}}";
    try (Receiver receiver = new Receiver();
        ScriptedBackend backend = ScriptedBackend.start(req -> {
          seen.add(Map.of("traceparent", req.headers().get("traceparent")));
          int code = calls.getAndIncrement() == 0 ? 503 : 200; // the first attempt fails, its retry succeeds
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
              Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
          r.headers().set("content-length", 2);
          return r;
        });
        ProxyHarness proxy = ProxyHarness.start(bootstrap("OUTBOUND", tracing, "collector").replace(
            "route: {cluster: backend}", "route: {cluster: backend, retry_policy: {retry_on: 5xx, num_retries: 1}}"),
            Map.of("PORT", backend.port(), "COLLECTOR", receiver.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      assertEquals(200, send(client, proxy, "/flaky", Map.of("traceparent",
          "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01")).statusCode());
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (receiver.spans.size() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(3, receiver.spans.size(), "spans: " + receiver.spans);
      Span downstream = receiver.spans.stream().filter(x -> x.getName().startsWith("egress")).findFirst()
          .orElseThrow();
      assertEquals(Span.SpanKind.SPAN_KIND_SERVER, downstream.getKind(), "a hop of its own: a server span");
      assertEquals(CLIENT_SPAN, hex(downstream.getParentSpanId().toByteArray()));
      List<Span> attempts = receiver.spans.stream().filter(x -> x.getName().equals("router backend egress"))
          .sorted(java.util.Comparator.comparingLong(Span::getStartTimeUnixNano)).toList();
      assertEquals(2, attempts.size(), "spans: " + receiver.spans);
      String downstreamId = hex(downstream.getSpanId().toByteArray());
      for (int i = 0; i < 2; i++) {
        Span a = attempts.get(i);
        assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, a.getKind());
        assertEquals(CLIENT_TRACE, hex(a.getTraceId().toByteArray()));
        assertEquals(downstreamId, hex(a.getParentSpanId().toByteArray()), "a child of the downstream span");
        assertEquals("00-" + CLIENT_TRACE + "-" + hex(a.getSpanId().toByteArray()) + "-01",
            seen.get(i).get("traceparent"), "attempt " + i + "'s upstream sees its span as the parent");
        assertEquals("backend", attr(a, "upstream_cluster"));
        assertEquals("127.0.0.1:" + backend.port(), attr(a, "upstream_address"));
        assertEquals("HTTP/1.1", attr(a, "http.protocol"));
      }
      assertEquals("503", attr(attempts.get(0), "http.status_code"));
      assertEquals("true", attr(attempts.get(0), "error"));
      assertEquals("200", attr(attempts.get(1), "http.status_code"));
      assertEquals("200", attr(downstream, "http.status_code"));
    }
  }

  /**
   * Envoy samples by the request id — its first eight hex digits modulo 10,000 against the rate in ten-thousandths —
   * so every proxy on a request's way draws the same, and packs its decision into the id's version digit, where the
   * next proxy reads it.
   */
  @Test
  void samplesByTheRequestIdAndPacksTheDecision() throws Exception {
    List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
    String tracing = "{random_sampling: {value: 50}, provider: {name: envoy.tracers.opentelemetry, typed_config: "
        + "{\"@type\": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig, grpc_service: {envoy_grpc: "
        + "{cluster_name: collector}}}}}";
    String below = "00001387-0000-4000-8000-000000000000"; // 4999 < 5000: sampled
    String at = "00001388-0000-4000-8000-000000000000"; // 5000: not
    String carried = "00001388-0000-9000-8000-000000000000"; // not by its draw, but a proxy before sampled it
    String wrapped = "00011d97-0000-4000-8000-000000000000"; // 73111 % 10000 = 3111: sampled
    try (Receiver receiver = new Receiver(); ScriptedBackend backend = echoingBackend(seen);
        ProxyHarness proxy = ProxyHarness.start(bootstrap("INBOUND", tracing, "collector"),
            Map.of("PORT", backend.port(), "COLLECTOR", receiver.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String id : List.of(below, at, carried, wrapped)) {
        send(client, proxy, "/plain", Map.of("x-request-id", id));
      }
      assertEquals(below.replace("-4000-", "-9000-"), seen.get(0).get("x-request-id"), "sampled: packed as 9");
      assertTrue(seen.get(0).get("traceparent").endsWith("-01"));
      assertEquals(at, seen.get(1).get("x-request-id"));
      assertTrue(seen.get(1).get("traceparent").endsWith("-00"));
      assertEquals(carried, seen.get(2).get("x-request-id"));
      assertTrue(seen.get(2).get("traceparent").endsWith("-01"), "the reason the id carries decides");
      assertTrue(seen.get(3).get("traceparent").endsWith("-01"));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (receiver.spans.size() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(3, receiver.spans.size(), "spans: " + receiver.spans);
    }
  }

  /** OTLP over HTTP ({@code http_service}): the protobuf request POSTed to the URI's path, with the extra headers. */
  @Test
  void otlpOverHttpPostsTheProtobufRequest() throws Exception {
    List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
    List<ExportTraceServiceRequest> posted = new CopyOnWriteArrayList<>();
    List<String> heads = new CopyOnWriteArrayList<>();
    String tracing = "{random_sampling: {value: 100}, provider: {name: envoy.tracers.opentelemetry, typed_config: "
        + "{\"@type\": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig, service_name: reviews-proxy, "
        + "http_service: {http_uri: {uri: \"http://collector:4318/otlp/v1/traces\", cluster: collector, timeout: 2s}, "
        + "request_headers_to_add: [{header: {key: x-tenant, value: t1}}]}}}}";
    try (ScriptedBackend collector = ScriptedBackend.start(req -> {
          heads.add(req.method() + " " + req.uri() + " " + req.headers().get("content-type") + " "
              + req.headers().get("x-tenant"));
          byte[] body = new byte[req.content().readableBytes()];
          req.content().getBytes(req.content().readerIndex(), body);
          try {
            posted.add(ExportTraceServiceRequest.parseFrom(body));
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
          r.headers().set("content-length", 0);
          return r;
        });
        ScriptedBackend backend = echoingBackend(seen);
        ProxyHarness proxy = ProxyHarness.start(bootstrap("INBOUND", tracing, "collector"),
            Map.of("PORT", backend.port(), "COLLECTOR", collector.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      send(client, proxy, "/plain", Map.of("traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01"));
      send(client, proxy, "/fail", Map.of());
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (posted.stream().mapToInt(r -> r.getResourceSpans(0).getScopeSpans(0).getSpansCount()).sum() < 2
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals("POST /otlp/v1/traces application/x-protobuf t1", heads.get(0));
      List<Span> spans = posted.stream().flatMap(r -> r.getResourceSpans(0).getScopeSpans(0).getSpansList().stream())
          .toList();
      assertEquals(2, spans.size(), "spans: " + spans);
      assertEquals("reviews-proxy", posted.get(0).getResourceSpans(0).getResource().getAttributesList().stream()
          .filter(a -> a.getKey().equals("service.name")).findFirst().orElseThrow().getValue().getStringValue());
      Span first = spans.get(0);
      assertEquals(CLIENT_TRACE, hex(first.getTraceId().toByteArray()));
      assertEquals(CLIENT_SPAN, hex(first.getParentSpanId().toByteArray()));
      assertEquals(Span.SpanKind.SPAN_KIND_SERVER, first.getKind());
      assertEquals("200", attr(first, "http.status_code"));
      assertEquals("proxy", attr(first, "component"));
      assertTrue(seen.get(0).get("traceparent").contains(hex(first.getSpanId().toByteArray())), "the upstream's parent");
      Span failed = spans.get(1);
      assertEquals("503", attr(failed, "http.status_code"));
      assertEquals(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR, failed.getStatus().getCode());
      assertTrue(failed.getEndTimeUnixNano() >= failed.getStartTimeUnixNano() && failed.getStartTimeUnixNano() > 0);
    }
  }

  /** As older Istio shapes it: the tracer in the bootstrap's tracing.http, only sampling and tags in the HCM. */
  @Test
  void zipkinUsesB3AndV2Json() throws Exception {
    List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
    List<String> posted = new CopyOnWriteArrayList<>();
    String tracing = "{random_sampling: {value: 100}, custom_tags: [{tag: istio.mesh_id, literal: {value: mesh1}}, "
        + "{tag: dry_run, metadata: {kind: {request: {}}, metadata_key: {key: envoy.filters.http.rbac, path: "
        + "[{key: istio_dry_run_allow_shadow_effective_policy_id}]}}}]}";
    String bootstrapTracing = "tracing: {http: {name: envoy.tracers.zipkin, typed_config: {\"@type\": "
        + "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: collector, "
        + "collector_endpoint: /api/v2/spans, collector_endpoint_version: HTTP_JSON}}}\n";
    try (ScriptedBackend collector = ScriptedBackend.start(req -> {
          posted.add(req.uri() + " " + req.content().toString(StandardCharsets.UTF_8));
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.ACCEPTED);
          r.headers().set("content-length", 0);
          return r;
        });
        ScriptedBackend backend = echoingBackend(seen);
        ProxyHarness proxy = ProxyHarness.start(bootstrapTracing + bootstrap("OUTBOUND", tracing, "collector"),
            Map.of("PORT", backend.port(), "COLLECTOR", collector.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      send(client, proxy, "/plain", Map.of("b3", CLIENT_TRACE + "-" + CLIENT_SPAN + "-1", "host", "ratings:9080"));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (posted.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(1, posted.size());
      assertTrue(posted.get(0).startsWith("/api/v2/spans "), posted.get(0));
      JsonArray spans = JsonParser.parseString(posted.get(0).substring(posted.get(0).indexOf(' ') + 1)).getAsJsonArray();
      JsonObject span = spans.get(0).getAsJsonObject();
      assertEquals(CLIENT_TRACE, span.get("traceId").getAsString());
      assertEquals(CLIENT_SPAN, span.get("parentId").getAsString());
      assertEquals("CLIENT", span.get("kind").getAsString(), "egress");
      assertEquals("egress ratings:9080", span.get("name").getAsString());
      assertEquals("reviews", span.getAsJsonObject("localEndpoint").get("serviceName").getAsString());
      JsonObject tags = span.getAsJsonObject("tags");
      assertEquals("mesh1", tags.get("istio.mesh_id").getAsString());
      assertFalse(tags.has("dry_run"), "no dynamic metadata: no tag, as in Envoy when it is absent");
      Map<String, String> up = seen.get(0);
      assertEquals(CLIENT_TRACE, up.get("x-b3-traceid"));
      assertEquals(span.get("id").getAsString(), up.get("x-b3-spanid"));
      assertEquals("1", up.get("x-b3-sampled"));
      assertFalse(up.containsKey("b3"), "one form of B3 upstream");
    }
  }

  private static HttpResponse<Void> send(HttpClient client, ProxyHarness proxy, String path,
      Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10));
    headers.forEach((k, v) -> {
      if (!k.equals("host")) {
        b.header(k, v);
      }
    });
    if (headers.containsKey("host")) {
      b.header("Host", headers.get("host"));
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.discarding());
  }

  private static String attr(Span s, String key) {
    for (KeyValue kv : s.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        return kv.getValue().getStringValue();
      }
    }
    return "";
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
