package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import io.bowline.xds.ConfigException;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Istio's standard metrics through a real proxy, as an inbound sidecar (reporter=destination, the caller known from
 * its x-envoy-peer-metadata) and as an outbound one (reporter=source, the callee known from the response's), with
 * Istio's metric overrides; read back from /stats/prometheus.
 */
@ExtendWith(LeakGuard.class)
class IstioStatsIT {
  private static final String NODE = """
      node:
        id: sidecar~10.0.0.7~reviews-v1-abc.default~default.svc.cluster.local
        metadata:
          WORKLOAD_NAME: reviews-v1
          NAMESPACE: default
          CLUSTER_ID: Kubernetes
          LABELS: {app: reviews, version: v1, "service.istio.io/canonical-name": reviews}
      """;

  private static String bootstrap(String direction, String cluster, String statsConfig) {
    return NODE + """
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
                  route_config:
                    virtual_hosts:
                    - {name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: "CLUSTER"}}]}
                  http_filters:
                  - name: istio.stats
                    typed_config: STATS
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: "CLUSTER"
            type: STATIC
            load_assignment: {cluster_name: "CLUSTER", endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("DIRECTION", direction).replace("CLUSTER", cluster).replace("STATS", statsConfig);
  }

  private static String peer(String workload, String app, String version) {
    Struct labels = Struct.newBuilder().putFields("app", str(app)).putFields("version", str(version)).build();
    Struct md = Struct.newBuilder().putFields("WORKLOAD_NAME", str(workload)).putFields("NAMESPACE", str("default"))
        .putFields("CLUSTER_ID", str("Kubernetes")).putFields("LABELS", Value.newBuilder().setStructValue(labels)
            .build()).build();
    return Base64.getEncoder().encodeToString(md.toByteArray());
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static ScriptedBackend backend(String peerHeader) throws Exception {
    return ScriptedBackend.start(req -> {
      int code = req.uri().startsWith("/fail") ? 503 : 200;
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
          Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
      r.headers().set("content-length", 5);
      if (peerHeader != null) {
        r.headers().set("x-envoy-peer-metadata", peerHeader);
        r.headers().set("x-envoy-peer-metadata-id", "sidecar~10.0.0.9~reviews-v2-xyz.default~default.svc.cluster.local");
      }
      return r;
    });
  }

  /** An inbound cluster that names no service: the destination is the request's Host, each request's own. */
  @Test
  void inboundWithoutServiceMetadataFallsBackToTheHost() throws Exception {
    try (ScriptedBackend backend = backend(null);
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(),
            bootstrap("INBOUND", "inbound|9080||", "{\"@type\": type.googleapis.com/stats.PluginConfig}"),
            Map.of("PORT", backend.port()))) {
      // one connection, so one event loop and its last-host cache: back to the first host, it switches both ways
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port("http"))) {
        s.setSoTimeout(5000);
        java.io.InputStream in = s.getInputStream();
        for (String host : new String[] {"ratings.default.svc.cluster.local:9080", "details",
            "ratings.default.svc.cluster.local:9080"}) {
          s.getOutputStream().write(("GET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          String response = "";
          while (!response.endsWith("hello")) {
            int b = in.read();
            assertTrue(b >= 0, "response so far: " + response);
            response += (char) b;
          }
        }
      }
      String prom = proxy.admin("/stats/prometheus");
      assertEquals(2.0, value(prom, "istio_requests_total", "reporter=\"destination\"",
          "destination_service=\"ratings.default.svc.cluster.local\"", "destination_service_name=\"ratings\"",
          "destination_service_namespace=\"default\""), prom);
      assertEquals(1.0, value(prom, "istio_requests_total", "destination_service=\"details\"",
          "destination_service_name=\"details\""), prom);
    }
  }

  @Test
  void inboundSidecarReportsAsDestination() throws Exception {
    try (ScriptedBackend backend = backend(null);
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(),
            bootstrap("INBOUND", "inbound|9080||", "{\"@type\": type.googleapis.com/stats.PluginConfig}")
                .replace("    type: STATIC\n", "    type: STATIC\n    metadata: {filter_metadata: {istio: {services: "
                    + "[{host: reviews.default.svc.cluster.local, name: reviews, namespace: default}]}}}\n"),
            Map.of("PORT", backend.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String caller = peer("productpage-v1", "productpage", "v1");
      for (String path : new String[] {"/ok", "/fail", "/ok"}) { // back to 200: the last-outcome cache switches
        client.send(HttpRequest.newBuilder(proxy.uri("http", path)).header("x-envoy-peer-metadata", caller)
            .header("x-envoy-peer-metadata-id", "sidecar~10.0.0.5~productpage-v1-1.default~default.svc.cluster.local")
            .POST(HttpRequest.BodyPublishers.ofString("0123456789")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      String prom = proxy.admin("/stats/prometheus");
      String[] common = {"reporter=\"destination\"", "source_workload=\"productpage-v1\"",
          "source_app=\"productpage\"", "source_version=\"v1\"", "source_canonical_service=\"productpage\"",
          "source_canonical_revision=\"v1\"", "source_workload_namespace=\"default\"", "source_cluster=\"Kubernetes\"",
          "source_principal=\"unknown\"", "destination_workload=\"reviews-v1\"", "destination_app=\"reviews\"",
          "destination_version=\"v1\"", "destination_canonical_service=\"reviews\"",
          "destination_workload_namespace=\"default\"", "destination_cluster=\"Kubernetes\"",
          "destination_service=\"reviews.default.svc.cluster.local\"", "destination_service_name=\"reviews\"",
          "destination_service_namespace=\"default\"",
          "request_protocol=\"http\"", "grpc_response_status=\"\"", "response_flags=\"-\"",
          "connection_security_policy=\"none\""};
      assertEquals(2.0, value(prom, "istio_requests_total", append(common, "response_code=\"200\"")), prom);
      assertEquals(1.0, value(prom, "istio_requests_total", append(common, "response_code=\"503\"")), prom);
      assertEquals(2.0, value(prom, "istio_request_duration_milliseconds_count",
          append(common, "response_code=\"200\"")));
      assertEquals(2.0, value(prom, "istio_request_duration_milliseconds_bucket",
          append(common, "response_code=\"200\"", "le=\"+Inf\"")));
      assertEquals(20.0, value(prom, "istio_request_bytes_sum", append(common, "response_code=\"200\"")),
          "two 10-byte request bodies");
      assertEquals(1.0, value(prom, "istio_response_bytes_bucket", append(common, "response_code=\"503\"",
          "le=\"10.0\"")), "one 5-byte response under the le=10 bucket");
      assertTrue(prom.contains("# TYPE istio_requests_total counter"), prom);
      assertTrue(prom.contains("# TYPE istio_request_duration_milliseconds histogram"), prom);
      assertTrue(prom.contains("envoy_http_downstream_rq_total"), "Envoy's stats are still there");
      assertFalse(prom.contains("istio_request_messages_total"), "message counts are for gRPC requests only");
    }
  }

  @Test
  void outboundSidecarReportsAsSourceWithOverrides() throws Exception {
    String stats = """
        {"@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/stats.PluginConfig,
         value: {disable_host_header_fallback: true, metrics: [
           {name: requests_total, dimensions: {request_host: request.host, api: "'v2'", "request.method": request.method,
            destination_canonical_service: "'reviews-renamed'"},
            tags_to_remove: [request_protocol]},
           {name: response_bytes, drop: true}]}}""";
    try (ScriptedBackend backend = backend(peer("reviews-v2", "reviews", "v2"));
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(),
            bootstrap("OUTBOUND", "outbound|9080||reviews.default.svc.cluster.local", stats),
            Map.of("PORT", backend.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", "/reviews/1"))
            .header("Host", "reviews:9080").timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
      }
      String prom = proxy.admin("/stats/prometheus");
      String[] labels = {"reporter=\"source\"", "source_workload=\"reviews-v1\"", "source_app=\"reviews\"",
          "destination_workload=\"reviews-v2\"", "destination_version=\"v2\"",
          "destination_service=\"reviews.default.svc.cluster.local\"", "destination_service_name=\"reviews\"",
          "destination_service_namespace=\"default\"", "response_code=\"200\"",
          "connection_security_policy=\"unknown\"", "source_principal=\"unknown\""};
      assertEquals(3.0, value(prom, "istio_requests_total", append(labels, "request_host=\"reviews:9080\"",
          "api=\"v2\"", "request_method=\"GET\"", "destination_canonical_service=\"reviews-renamed\"")),
          "a dimension's name is a Prometheus label name; a standard label takes the expression's value: " + prom);
      String requestsLine = Arrays.stream(prom.split("\n")).filter(l -> l.startsWith("istio_requests_total{"))
          .findFirst().orElseThrow();
      assertFalse(requestsLine.contains("request_protocol="), "tags_to_remove: " + requestsLine);
      assertEquals(3.0, value(prom, "istio_request_duration_milliseconds_count",
          append(labels, "request_protocol=\"http\"", "destination_canonical_service=\"reviews\"")),
          "the override names requests_total only");
      assertFalse(prom.contains("istio_response_bytes"), "dropped");
    }
  }

  @Test
  void grpcRequestsCountMessagesAndStatus() throws Exception {
    io.grpc.Server grpc = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
        new java.net.InetSocketAddress("127.0.0.1", 0)).addService(new io.bowline.core.testing.GrpcTestService())
        .build().start();
    String yaml = bootstrap("INBOUND", "inbound|9090||", "{\"@type\": type.googleapis.com/stats.PluginConfig}")
        .replace("    type: STATIC\n", "    type: STATIC\n    typed_extension_protocol_options:\n"
            + "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
            + "        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n"
            + "        explicit_http_config: {http2_protocol_options: {}}\n");
    try (ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", grpc.getPort()))) {
      io.grpc.ManagedChannel ch = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
          .forAddress("127.0.0.1", proxy.port("http")).usePlaintext().build();
      try {
        io.grpc.CallOptions opts = io.grpc.CallOptions.DEFAULT.withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS);
        java.util.Iterator<String> it = io.grpc.stub.ClientCalls.blockingServerStreamingCall(ch,
            io.bowline.core.testing.GrpcTestService.SERVER_STREAM, opts, "50");
        int n = 0;
        while (it.hasNext()) {
          it.next();
          n++;
        }
        assertEquals(50, n);
        assertThrows(io.grpc.StatusRuntimeException.class, () -> io.grpc.stub.ClientCalls.blockingUnaryCall(ch,
            io.bowline.core.testing.GrpcTestService.FAIL, opts, "x"));
      } finally {
        ch.shutdownNow();
      }
      String prom = proxy.admin("/stats/prometheus");
      String[] ok = {"request_protocol=\"grpc\"", "grpc_response_status=\"0\"", "response_code=\"200\""};
      assertEquals(1.0, value(prom, "istio_requests_total", ok), prom);
      assertEquals(1.0, value(prom, "istio_request_messages_total", ok));
      assertEquals(50.0, value(prom, "istio_response_messages_total", ok));
      String[] failed = {"request_protocol=\"grpc\"", "grpc_response_status=\"9\""};
      assertEquals(1.0, value(prom, "istio_requests_total", failed), "FAILED_PRECONDITION");
      assertEquals(0.0, value(prom, "istio_response_messages_total", failed));
    } finally {
      grpc.shutdownNow();
    }
  }

  /** An outbound tcp_proxy listener with istio.stats ({@code STATS}) before it, to ratings' endpoint on ${PORT}. */
  private static String tcpBootstrap(String stats) {
    return NODE + """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            traffic_direction: OUTBOUND
            filter_chains:
            - filters:
              - name: istio.stats
                typed_config: STATS
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: out
                  cluster: "outbound|9080||ratings.default.svc.cluster.local"
          clusters:
          - name: "outbound|9080||ratings.default.svc.cluster.local"
            type: STATIC
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}},
              metadata: {filter_metadata: {istio: {workload: "ratings-v1;default;ratings;v1;Kubernetes"}}}}]}]}
        """.replace("STATS", stats);
  }

  @Test
  void tcpProxyReportsIstiosTcpMetrics() throws Exception {
    String yaml = tcpBootstrap("{\"@type\": type.googleapis.com/stats.PluginConfig, tcp_reporting_duration: 0.1s}");
    try (ScriptedBackend backend = backend(null);
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", backend.port()))) {
      byte[] request = "GET /x HTTP/1.1\r\nHost: ratings\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      int received;
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port("tcp"))) {
        s.setSoTimeout(5000);
        s.getOutputStream().write(request);
        byte[] buf = new byte[4096];
        received = 0;
        while (received == 0 || !new String(buf, 0, received, StandardCharsets.ISO_8859_1).endsWith("hello")) {
          received += s.getInputStream().read(buf, received, buf.length - received);
        }
        Thread.sleep(300); // the periodic report runs while the connection is open
        String open = proxy.admin("/stats/prometheus");
        String[] labels = {"reporter=\"source\"", "source_workload=\"reviews-v1\"",
            "destination_service=\"ratings.default.svc.cluster.local\"", "destination_service_name=\"ratings\"",
            "request_protocol=\"tcp\"", "response_flags=\"-\"",
            // no TCP metadata exchange ran: the endpoint's istio.workload names the destination
            "destination_workload=\"ratings-v1\"", "destination_canonical_service=\"ratings\"",
            "destination_canonical_revision=\"v1\"", "destination_app=\"unknown\"",
            "destination_workload_namespace=\"default\"", "destination_cluster=\"Kubernetes\""};
        assertEquals(1.0, value(open, "istio_tcp_connections_opened_total", labels), open);
        assertEquals(request.length, value(open, "istio_tcp_received_bytes_total", labels),
            "reported every tcp_reporting_duration while open");
        assertEquals(received, value(open, "istio_tcp_sent_bytes_total", labels));
        s.getOutputStream().write(request);
        s.getInputStream().read(buf);
      }
      long deadline = System.nanoTime() + 5_000_000_000L;
      String prom = proxy.admin("/stats/prometheus");
      while (value(prom, "istio_tcp_connections_closed_total", "reporter=\"source\"") < 1
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
        prom = proxy.admin("/stats/prometheus");
      }
      assertEquals(1.0, value(prom, "istio_tcp_connections_closed_total", "reporter=\"source\""), prom);
      assertEquals(2.0 * request.length, value(prom, "istio_tcp_received_bytes_total", "reporter=\"source\""));
    }
  }

  /**
   * An outbound sidecar calling over mTLS a destination that sends no peer metadata (no sidecar of its own answers):
   * the destination is what its endpoint's istio.workload says, the principals are the upstream connection's two
   * certificates, and the destination's namespace is its principal's before its metadata's, as in Istio.
   */
  @Test
  void outboundOverMtlsNamesTheEndpointsWorkloadAndBothPrincipals(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path dir) throws Exception {
    TestCerts.Identity server = TestCerts.identity("ratings", "spiffe://cluster.local/ns/ratings-ns/sa/ratings");
    TestCerts.Identity client = TestCerts.identity("reviews", "spiffe://cluster.local/ns/default/sa/reviews");
    String inbound = """
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
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    String log = dir.resolve("access.log").toString();
    String outbound = bootstrap("OUTBOUND", "outbound|9080||ratings.default.svc.cluster.local",
        "{\"@type\": type.googleapis.com/stats.PluginConfig}")
        .replace("    WORKLOAD_NAME: reviews-v1\n", "    WORKLOAD_NAME: reviews-v1\n    ISTIO_VERSION: 1.24.2\n")
        .replace("          http_filters:\n", "          access_log: [{name: envoy.access_loggers.file, "
            + "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, "
            + "path: ${LOG}, log_format: {text_format_source: {inline_string: \"%UPSTREAM_PEER_URI_SAN% "
            + "%UPSTREAM_LOCAL_URI_SAN% %UPSTREAM_TLS_VERSION% [%UPSTREAM_PEER_SUBJECT%]\\n\"}}}}]\n"
            + "          http_filters:\n")
        .replace("port_value: ${PORT}}}}}]}]}", "port_value: ${PORT}}}},\n"
            + "          metadata: {filter_metadata: {istio: {workload: \"ratings-v2;default;ratings;v2;Kubernetes\"}}}}]}]}\n"
            + "    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n"
            + "        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n"
            + "        common_tls_context:\n"
            + "          tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]\n"
            + "          validation_context: {trusted_ca: {inline_string: ${CA}}}");
    try (ScriptedBackend backend = backend(null);
        ProxyHarness callee = ProxyHarness.start(BuiltinFilters.registry(), inbound, Map.of("PORT", backend.port(),
            "CERT", TestCerts.Pem.yaml(server.pem().certificate()), "KEY", TestCerts.Pem.yaml(server.pem().privateKey()),
            "CA", TestCerts.Pem.yaml(client.pem().certificate())));
        ProxyHarness sidecar = ProxyHarness.start(BuiltinFilters.registry(), outbound, Map.of("PORT",
            callee.port("in"), "LOG", log, "CERT", TestCerts.Pem.yaml(client.pem().certificate()),
            "KEY", TestCerts.Pem.yaml(client.pem().privateKey()), "CA", TestCerts.Pem.yaml(server.pem().certificate())),
            "--file-flush-interval-msec", "50")) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (int i = 0; i < 2; i++) {
        assertEquals(200, http.send(HttpRequest.newBuilder(sidecar.uri("http", "/ratings/1"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      }
      String prom = sidecar.admin("/stats/prometheus");
      assertEquals(2.0, value(prom, "istio_requests_total", "reporter=\"source\"",
          "source_principal=\"spiffe://cluster.local/ns/default/sa/reviews\"",
          "destination_principal=\"spiffe://cluster.local/ns/ratings-ns/sa/ratings\"",
          "connection_security_policy=\"unknown\"", "destination_workload=\"ratings-v2\"",
          "destination_canonical_service=\"ratings\"", "destination_canonical_revision=\"v2\"",
          "destination_app=\"unknown\"", "destination_version=\"unknown\"", "destination_cluster=\"Kubernetes\"",
          "destination_workload_namespace=\"ratings-ns\"", "destination_service_namespace=\"ratings-ns\"",
          "destination_service=\"ratings.default.svc.cluster.local\""), prom);
      assertEquals(1.0, value(prom, "istio_build", "component=\"proxy\"", "tag=\"1.24.2\""), prom);
      java.nio.file.Path logFile = java.nio.file.Path.of(log);
      long deadline = System.nanoTime() + 5_000_000_000L;
      while ((!java.nio.file.Files.exists(logFile) || java.nio.file.Files.readAllLines(logFile).size() < 2)
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      String line = java.nio.file.Files.readAllLines(logFile).get(0);
      assertTrue(line.startsWith("spiffe://cluster.local/ns/ratings-ns/sa/ratings "
          + "spiffe://cluster.local/ns/default/sa/reviews TLSv1.3 ["), line);
      assertTrue(line.contains("CN=ratings"), "the upstream's subject: " + line);
    }
  }

  /**
   * What istiod writes for a Telemetry override of ALL_METRICS: one entry per metric, TCP ones too, adding a dimension
   * and replacing a standard label's value; an override of a metric no `definitions` declares is skipped, as Istio
   * skips it, instead of refusing the listener.
   */
  @Test
  void telemetryOverridesReachTcpMetricsAndStandardLabels() throws Exception {
    String overrides = "{dimensions: {destination_port: \"string(destination.port)\", source_app: \"'edge'\", "
        + "mtls: connection.mtls}, tags_to_remove: [response_flags]}";
    String stats = "{\"@type\": type.googleapis.com/stats.PluginConfig, tcp_reporting_duration: 0.1s, metrics: ["
        + overrides.replace("{dimensions", "{name: tcp_connections_opened_total, dimensions") + ", "
        + overrides.replace("{dimensions", "{name: tcp_sent_bytes_total, dimensions") + ", "
        + "{name: tcp_received_bytes_total, drop: true}, {name: my_custom_count, dimensions: {x: \"'y'\"}}, "
        + "{name: closed_here, dimensions: {destination_port: \"string(destination.port)\"}}], "
        + "definitions: [{name: closed_here, value: \"1\"}]}";
    try (ScriptedBackend backend = backend(null);
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), tcpBootstrap(stats),
            Map.of("PORT", backend.port()))) {
      int port = proxy.port("tcp");
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET /x HTTP/1.1\r\nHost: ratings\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String response = "";
        while (!response.endsWith("hello")) {
          int b = s.getInputStream().read();
          assertTrue(b >= 0, "response so far: " + response);
          response += (char) b;
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        String prom = proxy.admin("/stats/prometheus");
        while (!prom.contains("istio_tcp_sent_bytes_total{") && System.nanoTime() < deadline) {
          Thread.sleep(20);
          prom = proxy.admin("/stats/prometheus");
        }
        String[] labels = {"reporter=\"source\"", "destination_port=\"" + port + "\"", "source_app=\"edge\"",
            "mtls=\"false\"", "source_workload=\"reviews-v1\"", "destination_workload=\"ratings-v1\""};
        assertEquals(1.0, value(prom, "istio_tcp_connections_opened_total", labels), prom);
        assertTrue(value(prom, "istio_tcp_sent_bytes_total", labels) > 0, prom);
        String opened = Arrays.stream(prom.split("\n")).filter(l -> l.startsWith("istio_tcp_connections_opened_total{"))
            .findFirst().orElseThrow();
        assertFalse(opened.contains("response_flags="), "tags_to_remove: " + opened);
        assertTrue(prom.contains("istio_tcp_connections_closed_total{"), prom);
        assertFalse(Arrays.stream(prom.split("\n")).anyMatch(l -> l.startsWith("istio_tcp_connections_closed_total{")
            && l.contains("destination_port=")), "the closed counter has no override: " + prom);
        assertFalse(prom.contains("istio_tcp_received_bytes_total{"), "dropped: " + prom);
        assertFalse(prom.contains("my_custom_count"), prom);
        assertFalse(prom.contains("istio_closed_here{"), "a connection's custom metrics are recorded at its close");
      }
      long deadline = System.nanoTime() + 5_000_000_000L;
      String prom = proxy.admin("/stats/prometheus");
      while (!prom.contains("istio_closed_here{") && System.nanoTime() < deadline) {
        Thread.sleep(20);
        prom = proxy.admin("/stats/prometheus");
      }
      assertEquals(1.0, value(prom, "istio_closed_here", "destination_port=\"" + port + "\""), prom);
    }
  }

  /**
   * Istio's custom metrics: {@code definitions} with a value expression and a type, labelled only by the dimensions
   * the {@code metrics} overrides give them (an entry naming them, or one naming no metric); a definition that would
   * redefine a standard metric, or share a Prometheus metric family with another metric, is skipped.
   */
  @Test
  void definitionsAddCustomMetrics() throws Exception {
    String stats = """
        {"@type": type.googleapis.com/stats.PluginConfig, definitions: [
           {name: hits, value: "1"}, {name: served_total, value: "1"}, {name: hits_total, value: "1"},
           {name: body_bytes, value: response.size, type: HISTOGRAM}, {name: last_code, value: response.code, type: GAUGE},
           {name: requests_total, value: "7"}, {name: requests, value: "7"}],
         metrics: [{name: hits, dimensions: {path: request.url_path}}, {dimensions: {code: response.code}}]}""";
    try (ScriptedBackend backend = backend(null);
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(),
            bootstrap("INBOUND", "inbound|9080||", stats), Map.of("PORT", backend.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String path : new String[] {"/a?x=1", "/a", "/fail"}) {
        client.send(HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      String prom = proxy.admin("/stats/prometheus");
      assertEquals(2.0, value(prom, "istio_hits", "path=\"/a\"", "code=\"200\""), prom);
      assertEquals(1.0, value(prom, "istio_hits", "path=\"/fail\"", "code=\"503\""), prom);
      assertEquals(2.0, value(prom, "istio_served_total", "code=\"200\""), "a _total counter keeps its name: " + prom);
      assertFalse(prom.contains("istio_hits_total"), "istio_hits's family: skipped, not a broken scrape: " + prom);
      assertFalse(prom.contains("istio_requests{"), "the standard istio_requests_total's family: skipped: " + prom);
      assertEquals(2.0, value(prom, "istio_body_bytes_bucket", "code=\"200\"", "le=\"5.0\""), prom);
      assertEquals(10.0, value(prom, "istio_body_bytes_sum", "code=\"200\""), "two 5-byte bodies");
      assertEquals(503.0, value(prom, "istio_last_code", "code=\"503\""), prom);
      assertEquals(2.0, value(prom, "istio_requests_total", "response_code=\"200\"", "code=\"200\""),
          "the standard metric counts requests, not a redefinition's 7, and takes the unnamed entry's dimension");
      assertFalse(Arrays.stream(prom.split("\n")).anyMatch(l -> l.startsWith("istio_hits{")
          && l.contains("reporter=")), "a custom metric has no standard labels: " + prom);
    }
  }

  @Test
  void badPluginConfigIsRefusedByFieldPath() {
    ConfigException e = cause(assertThrows(Exception.class, () -> ProxyHarness.start(BuiltinFilters.registry(),
        bootstrap("INBOUND", "c", "{\"@type\": type.googleapis.com/stats.PluginConfig, metrics: [{name: "
            + "requests_total, dimensions: {x: \"request.auth.claims['sub']\"}}]}"), Map.of("PORT", 1)).close()));
    assertEquals("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]"
        + ".typed_config.metrics[0].dimensions[x]", e.fieldPath());
    e = cause(assertThrows(Exception.class, () -> ProxyHarness.start(BuiltinFilters.registry(),
        bootstrap("INBOUND", "c", "{\"@type\": type.googleapis.com/stats.PluginConfig, metrics: [{name: "
            + "requests_total, dimensions: {request_host: request.host, \"request.host\": request.path}}]}"),
        Map.of("PORT", 1)).close()));
    assertTrue(e.getMessage().contains("names the label 'request_host' that another dimension names too"),
        e.getMessage());
  }

  private static String[] append(String[] a, String... more) {
    String[] out = Arrays.copyOf(a, a.length + more.length);
    System.arraycopy(more, 0, out, a.length, more.length);
    return out;
  }

  /** The value of the one sample of {@code metric} that has all {@code labels}. */
  private static double value(String prom, String metric, String... labels) {
    double found = Double.NaN;
    for (String line : prom.split("\n")) {
      if (!line.startsWith(metric + "{")) {
        continue;
      }
      String labelPart = line.substring(metric.length() + 1, line.lastIndexOf('}'));
      java.util.List<String> have = Arrays.asList(labelPart.split(",(?=[a-z_]+=\")"));
      if (have.containsAll(Arrays.asList(labels))) {
        if (!Double.isNaN(found)) {
          throw new AssertionError("more than one " + metric + " sample matches " + Arrays.toString(labels));
        }
        found = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    if (Double.isNaN(found)) {
      throw new AssertionError("no " + metric + " sample with " + Arrays.toString(labels) + " in\n" + prom);
    }
    return found;
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
