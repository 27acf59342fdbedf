package io.bowline.filters.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import io.bowline.core.filter.ClusterDirectory;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.stats.Stats;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.bowline.filters.BuiltinFilters;
import io.bowline.xds.bootstrap.EnvoyTypes;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The authorization config istiod wrote into the real sidecars and waypoints of ../shared/fixtures/istio: every RBAC
 * (HTTP and network), ext_authz, jwt_authn and istio_authn filter in the dumps compiles, and the inbound HTTP chain
 * of the authz sidecar — its istio_authn, its ALLOW policy "httpbin" (GET /info or POST /data, from
 * spiffe://cluster.local/ns/default/sa/sleep or any principal in ns/test, with a Google-issued token), the shadow
 * rules of its CUSTOM policy and the ext_authz they gate — is taken verbatim from the dump and enforced over mTLS.
 */
@ExtendWith(LeakGuard.class)
class IstioAuthzFixtureIT {
  static final Path DIR = Path.of("..", "..", "shared", "fixtures", "istio").toAbsolutePath();
  static final Set<String> NETWORK = Set.of("envoy.filters.network.rbac", "istio_authn");
  static final Set<String> HTTP = Set.of("envoy.filters.http.rbac", "envoy.filters.http.ext_authz",
      "envoy.filters.http.jwt_authn");

  static List<JsonObject> listeners() throws Exception {
    List<Path> dumps;
    try (Stream<Path> s = Files.walk(DIR)) {
      dumps = s.filter(p -> p.toString().endsWith(".config_dump.json")).sorted().toList();
    }
    List<JsonObject> out = new ArrayList<>();
    for (Path dump : dumps) {
      for (JsonElement c : JsonParser.parseString(Files.readString(dump)).getAsJsonObject()
          .getAsJsonArray("configs")) {
        JsonArray dynamic = c.getAsJsonObject().getAsJsonArray("dynamic_listeners");
        if (dynamic != null) {
          for (JsonElement l : dynamic) {
            JsonObject active = l.getAsJsonObject().getAsJsonObject("active_state");
            if (active != null) {
              out.add(active.getAsJsonObject("listener"));
            }
          }
        }
      }
    }
    return out;
  }

  static List<JsonObject> chains(JsonObject listener) {
    List<JsonObject> out = new ArrayList<>();
    if (listener.has("filter_chains")) {
      listener.getAsJsonArray("filter_chains").forEach(e -> out.add(e.getAsJsonObject()));
    }
    if (listener.has("default_filter_chain")) {
      out.add(listener.getAsJsonObject("default_filter_chain"));
    }
    return out;
  }

  @Test
  void everyAuthorizationFilterIstioWroteCompiles() throws Exception {
    assumeTrue(Files.isDirectory(DIR), "the fixtures are beside the checkout");
    FilterRegistry registry = BuiltinFilters.registry();
    ClusterDirectory clusters = new ClusterDirectory() {
      @Override
      public boolean exists(String cluster) {
        return true; // the dumps' clusters are all there in the proxy that received them
      }

      @Override
      public List<InetSocketAddress> hosts(String cluster) {
        return List.of();
      }
    };
    Stats stats = new Stats();
    Map<String, Integer> compiled = new TreeMap<>();
    for (JsonObject l : listeners()) {
      for (JsonObject chain : chains(l)) {
        if (!chain.has("filters")) {
          continue;
        }
        for (JsonElement fe : chain.getAsJsonArray("filters")) {
          // only the filters under test are parsed: the rest may carry types this proxy does not know (Wasm)
          String name = fe.getAsJsonObject().get("name").getAsString();
          if (NETWORK.contains(name)) {
            Filter.Builder f = Filter.newBuilder();
            JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).merge(fe.toString(), f);
            assertNotNull(registry.connectionGate(f.getTypedConfig(), new HttpFilterFactory.FactoryContext(
                stats.scope("t."), l.get("name").getAsString(), name, clusters)), name);
            compiled.merge(name, 1, Integer::sum);
          }
          if (name.equals("envoy.filters.network.http_connection_manager")) {
            for (JsonElement he : fe.getAsJsonObject().getAsJsonObject("typed_config").getAsJsonArray("http_filters")) {
              String hn = he.getAsJsonObject().get("name").getAsString();
              if (HTTP.contains(hn)) {
                HttpFilter.Builder h = HttpFilter.newBuilder();
                JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).merge(he.toString(), h);
                registry.create(h.getTypedConfig(), new HttpFilterFactory.FactoryContext(stats.scope("t."),
                    l.get("name").getAsString(), hn, clusters));
                compiled.merge(hn, 1, Integer::sum);
              }
            }
          }
        }
      }
    }
    System.out.println("Istio authorization filters compiled: " + compiled);
    assertTrue(compiled.getOrDefault("envoy.filters.http.rbac", 0) >= 10, compiled.toString());
    assertTrue(compiled.getOrDefault("envoy.filters.network.rbac", 0) >= 3, compiled.toString());
    assertTrue(compiled.getOrDefault("envoy.filters.http.ext_authz", 0) >= 5, compiled.toString());
    assertTrue(compiled.getOrDefault("istio_authn", 0) >= 8, compiled.toString());
  }

  /** Allows what it is asked about unless the method is DELETE or the body says "deny". */
  static final class Authorizer extends AuthorizationGrpc.AuthorizationImplBase {
    final List<CheckRequest> seen = new CopyOnWriteArrayList<>();

    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> done) {
      seen.add(request);
      var http = request.getAttributes().getRequest().getHttp();
      int code = http.getBody().contains("deny") ? 7 : 0;
      done.onNext(CheckResponse.newBuilder().setStatus(com.google.rpc.Status.newBuilder().setCode(code)).build());
      done.onCompleted();
    }
  }

  /**
   * The dump's mTLS chain for port 80, with what a test must change: the port match (the listener's port is picked
   * here), SDS secrets (inline certificates instead of pilot-agent's socket), Istio's telemetry filters (the
   * observability issue's: Wasm metadata exchange and grpc_stats), and the clusters it names, pointed at the test's
   * backend and authorizer. Istio's legacy authn filter would put the token's claims in {@code istio_authn}; a
   * set_metadata filter stands in for it.
   */
  static String inboundChain(String cert, String key, String ca) throws Exception {
    JsonObject chain = null;
    for (JsonObject l : listeners()) {
      if (l.get("name").getAsString().equals("virtualInbound")) {
        for (JsonObject c : chains(l)) {
          JsonObject m = c.getAsJsonObject("filter_chain_match");
          if (c.has("name") && c.get("name").getAsString().equals("0.0.0.0_80") && m != null
              && "tls".equals(m.has("transport_protocol") ? m.get("transport_protocol").getAsString() : null)
              && c.toString().contains("ext_authz")) {
            chain = c.deepCopy();
          }
        }
      }
    }
    assertNotNull(chain, "the authz sidecar's inbound chain for port 80");
    chain.getAsJsonObject("filter_chain_match").remove("destination_port");
    JsonObject tls = chain.getAsJsonObject("transport_socket").getAsJsonObject("typed_config")
        .getAsJsonObject("common_tls_context");
    tls.remove("tls_certificate_sds_secret_configs");
    JsonObject pair = new JsonObject();
    pair.add("certificate_chain", inline(cert));
    pair.add("private_key", inline(key));
    JsonArray certs = new JsonArray();
    certs.add(pair);
    tls.add("tls_certificates", certs);
    JsonObject validation = tls.remove("combined_validation_context").getAsJsonObject()
        .getAsJsonObject("default_validation_context"); // its SAN matchers, with ROOTCA inline instead of by SDS
    validation.add("trusted_ca", inline(ca));
    tls.add("validation_context", validation);
    JsonArray filters = new JsonArray();
    for (JsonElement f : chain.getAsJsonArray("filters")) {
      String name = f.getAsJsonObject().get("name").getAsString();
      if (name.equals("istio.metadata_exchange")) {
        continue;
      }
      if (name.equals("envoy.filters.network.http_connection_manager")) {
        JsonObject hcm = f.getAsJsonObject().getAsJsonObject("typed_config");
        JsonArray http = new JsonArray();
        http.add(JsonParser.parseString("""
            {"name": "envoy.filters.http.set_metadata", "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config",
              "metadata": [{"metadata_namespace": "istio_authn", "value": {"request.auth.claims":
                {"iss": ["https://accounts.google.com"]}}}]}}"""));
        for (JsonElement h : hcm.getAsJsonArray("http_filters")) {
          String hn = h.getAsJsonObject().get("name").getAsString();
          if (!hn.equals("istio.metadata_exchange") && !hn.equals("envoy.filters.http.grpc_stats")) {
            http.add(h);
          }
        }
        hcm.add("http_filters", http);
      }
      filters.add(f);
    }
    chain.add("filters", filters);
    return chain.toString();
  }

  private static JsonObject inline(String pem) {
    JsonObject o = new JsonObject();
    o.addProperty("inline_string", pem);
    return o;
  }

  @Test
  void theInboundPoliciesOfTheDumpAreEnforced() throws Exception {
    assumeTrue(Files.isDirectory(DIR), "the fixtures are beside the checkout");
    TestCerts.Identity server = TestCerts.identity("httpbin", "spiffe://cluster.local/ns/default/sa/httpbin");
    TestCerts.Identity sleep = TestCerts.identity("sleep", "spiffe://cluster.local/ns/default/sa/sleep");
    TestCerts.Identity tester = TestCerts.identity("tester", "spiffe://cluster.local/ns/test/sa/tester");
    TestCerts.Identity ratings = TestCerts.identity("ratings", "spiffe://cluster.local/ns/default/sa/ratings");
    String chain = inboundChain(server.pem().certificate(), server.pem().privateKey(),
        sleep.pem().certificate() + tester.pem().certificate() + ratings.pem().certificate());
    Authorizer authorizer = new Authorizer();
    Server authz = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: virtualInbound
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
            filter_chains: [@CHAIN@]
          clusters:
          - name: "inbound|80||"
            type: STATIC
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: "outbound|9191||sample-ext-authz-grpc"
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
        """.replace("@CHAIN@", chain);
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml,
            Map.of("PORT", backend.port(), "AUTHZ", authz.getPort()))) {
      int port = proxy.port("virtualInbound");
      // ALLOW "httpbin" rule: GET /info* or POST /data from sleep (or ns/test) with the claim; CUSTOM covers the same
      assertEquals(200, status(send(port, sleep, server, "GET /info HTTP/1.1", "")));
      assertEquals(1, authorizer.seen.size(), "the CUSTOM policy's shadow rule turned the check on");
      assertEquals(200, status(send(port, tester, server, "POST /data HTTP/1.1", "amount=1")));
      assertEquals("amount=1", authorizer.seen.get(1).getAttributes().getRequest().getHttp().getBody(),
          "with_request_body: the authorizer saw the body");
      assertEquals(403, status(send(port, sleep, server, "POST /data HTTP/1.1", "please deny")),
          "the authorizer refused");
      String other = send(port, sleep, server, "GET /status/200 HTTP/1.1", "");
      assertEquals(403, status(other), "no ALLOW rule for the path");
      assertTrue(other.endsWith("RBAC: access denied"), other);
      assertEquals(403, status(send(port, ratings, server, "GET /info HTTP/1.1", "")), "not an allowed principal");
      assertEquals(3, authorizer.seen.size(), "requests RBAC denied never reached the authorizer");
      assertEquals(2, backend.requestsTo("/info") + backend.requestsTo("/data"), "only the allowed reached it");
    } finally {
      authz.shutdownNow();
    }
  }

  private static int status(String response) {
    return response.length() < 12 ? -1 : Integer.parseInt(response.substring(9, 12));
  }

  private static String send(int port, TestCerts.Identity client, TestCerts.Identity server, String line,
      String body) throws Exception {
    try (SSLSocket s = (SSLSocket) client.sslContext(server.certificate()).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      var p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"istio-http/1.1"});
      s.setSSLParameters(p);
      s.setSoTimeout(10_000);
      s.getOutputStream().write((line + "\r\nHost: httpbin\r\nConnection: close\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}
