package io.bowline.core.xds;

import static io.bowline.core.testing.XdsResources.edsCluster;
import static io.bowline.core.testing.XdsResources.endpoints;
import static io.bowline.core.testing.XdsResources.listener;
import static io.bowline.core.testing.XdsResources.routes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.XdsTestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * bowline against a real xDS server (java-control-plane), state of the world over TCP and delta over a unix
 * socket: it becomes ready on the first complete configuration, traffic follows every push (routes, new clusters,
 * endpoint churn, removed clusters, a changed listener), a bad resource is NACKed by name and field while the last
 * good configuration keeps serving, and losing the server changes nothing for traffic.
 */
@ExtendWith(LeakGuard.class)
class XdsIT {
  TestBackend one;
  TestBackend two;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeEach
  void backends() {
    one = TestBackend.start();
    two = TestBackend.start();
  }

  @AfterEach
  void stop() {
    one.close();
    two.close();
  }

  int get(ProxyHarness proxy, String path) throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode();
  }

  void awaitReady(ProxyHarness proxy) {
    await().atMost(Duration.ofSeconds(15)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
  }

  @Test
  void stateOfTheWorldOverTcp() throws Exception {
    try (XdsTestServer xds = XdsTestServer.tcp()) {
      followsEveryPush(xds, "GRPC");
    }
  }

  @Test
  void deltaOverAUnixSocket() throws Exception {
    Path dir = Files.createTempDirectory("bowline-xds");
    try (XdsTestServer xds = XdsTestServer.uds(dir.resolve("XDS").toString())) {
      followsEveryPush(xds, "DELTA_GRPC");
    } finally {
      Files.deleteIfExists(dir.resolve("XDS"));
      Files.deleteIfExists(dir);
    }
  }

  @Test
  void managementServerOverTls() throws Exception {
    io.bowline.core.testing.TestCerts.Pem cert = io.bowline.core.testing.TestCerts.selfSigned("xds.test");
    io.bowline.core.testing.TestCerts.Pem other = io.bowline.core.testing.TestCerts.selfSigned("xds.test");
    try (XdsTestServer xds = XdsTestServer.tls(cert)) {
      xds.set("1", List.of(edsCluster("svc")), List.of(endpoints("svc", one.port())), List.of(listener("ingress")),
          List.of(routes("/", "svc")));
      String trusting = "transport_socket:\n  name: envoy.transport_sockets.tls\n  typed_config:\n"
          + "    \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n"
          + "    sni: xds.test\n    common_tls_context: {validation_context: {trusted_ca: {inline_string: %s}}}\n";
      try (ProxyHarness proxy = ProxyHarness.start(xds.bootstrap("GRPC", "",
          trusting.formatted(io.bowline.core.testing.TestCerts.Pem.yaml(cert.certificate()))), Map.of())) {
        awaitReady(proxy);
        assertEquals(200, get(proxy, "/echo/over-tls"));
      }
      // a server whose certificate the bootstrap does not trust is never believed
      try (ProxyHarness proxy = ProxyHarness.start(xds.bootstrap("GRPC", "",
          trusting.formatted(io.bowline.core.testing.TestCerts.Pem.yaml(other.certificate()))), Map.of())) {
        Thread.sleep(1500);
        assertEquals(503, proxy.adminResponse("GET", "/ready").statusCode());
        assertEquals("0", stat(proxy, "control_plane.connected_state"));
      }
    }
  }

  private void followsEveryPush(XdsTestServer xds, String apiType) throws Exception {
    try (ProxyHarness proxy = ProxyHarness.start(xds.bootstrap(apiType), Map.of())) {
      // nothing served yet: not ready
      Thread.sleep(300);
      HttpResponse<String> notReady = proxy.adminResponse("GET", "/ready");
      assertEquals(503, notReady.statusCode());
      assertEquals("INITIALIZING", notReady.body().trim());
      xds.set("1", List.of(edsCluster("svc")), List.of(endpoints("svc", one.port())), List.of(listener("ingress")),
          List.of(routes("/", "svc")));
      awaitReady(proxy);
      assertEquals(200, get(proxy, "/echo/v1"));
      assertEquals(1, one.requestsTo("/echo/v1"));
      assertEquals("1", stat(proxy, "control_plane.connected_state"));

      // a new cluster and a route to it
      xds.set("2", List.of(edsCluster("svc"), edsCluster("svc2")),
          List.of(endpoints("svc", one.port()), endpoints("svc2", two.port())), List.of(listener("ingress")),
          List.of(routes("/two", "svc2", "/", "svc")));
      await().atMost(Duration.ofSeconds(10)).until(() -> get(proxy, "/two/probe") == 200
          && two.requestsTo("/two/probe") > 0);
      String dump = proxy.admin("/config_dump?include_eds");
      for (String part : List.of("\"dynamic_active_clusters\"", "\"name\": \"svc2\"", "\"version_info\": \"2\"",
          "\"dynamic_listeners\"", "\"active_state\"", "\"dynamic_route_configs\"",
          "\"dynamic_endpoint_configs\"", "\"last_updated\"")) {
        assertTrue(dump.contains(part), part + " in " + dump);
      }
      List<String> types = new java.util.ArrayList<>();
      com.google.gson.JsonParser.parseString(dump).getAsJsonObject().getAsJsonArray("configs").forEach(c -> types.add(
          c.getAsJsonObject().get("@type").getAsString().replace("type.googleapis.com/envoy.admin.v3.", "")));
      assertEquals(List.of("BootstrapConfigDump", "ClustersConfigDump", "EndpointsConfigDump", "ListenersConfigDump",
          "RoutesConfigDump", "SecretsConfigDump"), types, "Envoy's order");
      for (String counter : List.of("http.ingress.rds.local.update_success", "cluster.svc2.update_success",
          "cluster_manager.cds.update_success", "listener_manager.lds.update_success")) {
        assertTrue(Long.parseLong(stat(proxy, counter)) >= 1, counter);
      }
      assertTrue(Long.parseLong(stat(proxy, "cluster_manager.cds.version")) != 0);

      // a resource bowline cannot carry out: NACKed by name and field; the previous configuration keeps serving
      String bad = edsCluster("svc3") + "lb_policy: LOAD_BALANCING_POLICY_CONFIG\n";
      xds.set("3", List.of(edsCluster("svc"), edsCluster("svc2"), bad),
          List.of(endpoints("svc", one.port()), endpoints("svc2", two.port())), List.of(listener("ingress")),
          List.of(routes("/two", "svc2", "/", "svc")));
      await().atMost(Duration.ofSeconds(10)).until(() -> xds.nacks.stream().anyMatch(
          n -> n.contains("Cluster[svc3].lb_policy")));
      assertEquals(200, get(proxy, "/two/after-nack"));
      assertEquals(1, two.requestsTo("/two/after-nack"));
      assertTrue(Long.parseLong(stat(proxy, "cluster_manager.cds.update_rejected")) >= 1);

      // a resource whose bytes do not decode (the name does): NACKed naming it, nothing else changes
      xds.setWithBuiltClusters("3b", List.of(edsCluster("svc"), edsCluster("svc2")), List.of(XdsTestServer.undecodableCluster("svc4")),
          List.of(endpoints("svc", one.port()), endpoints("svc2", two.port())), List.of(listener("ingress")),
          List.of(routes("/two", "svc2", "/", "svc")));
      await().atMost(Duration.ofSeconds(10)).until(() -> xds.nacks.stream().anyMatch(
          n -> n.contains("Cluster[svc4]") && n.contains("cannot decode")));
      assertEquals(200, get(proxy, "/two/after-undecodable"));
      assertEquals(1, two.requestsTo("/two/after-undecodable"));

      // endpoint churn and a removed cluster: svc now lives on the second backend, svc2 is gone
      xds.set("4", List.of(edsCluster("svc")), List.of(endpoints("svc", two.port())), List.of(listener("ingress")),
          List.of(routes("/", "svc")));
      await().atMost(Duration.ofSeconds(10)).until(() -> get(proxy, "/moved") == 200 && two.requestsTo("/moved") > 0);

      // a changed listener: an open keep-alive connection is drained (Connection: close on its next response)
      try (RawHttp raw = new RawHttp(proxy.port("http"))) {
        String first = raw.send("GET /echo/keep HTTP/1.1\r\nHost: x\r\n\r\n").readAll(500);
        assertEquals(200, RawHttp.status(first), "[" + first + "]");
        xds.set("5", List.of(edsCluster("svc")), List.of(endpoints("svc", two.port())),
            List.of(listener("ingress_v5")), List.of(routes("/", "svc")));
        // new connections get the new listener configuration (its stat prefix) once it is applied
        await().atMost(Duration.ofSeconds(10)).until(() -> get(proxy, "/new-conn") == 200
            && !List.of("absent", "0").contains(stat(proxy, "http.ingress_v5.downstream_rq_total")));
        String second = raw.send("GET /echo/keep2 HTTP/1.1\r\nHost: x\r\n\r\n").readAll(500);
        assertEquals(200, RawHttp.status(second));
        assertTrue(second.toLowerCase().contains("connection: close"), second);
      }

      // the management server goes away: traffic is not disturbed
      xds.close();
      await().atMost(Duration.ofSeconds(10)).until(() -> stat(proxy, "control_plane.connected_state").equals("0"));
      assertEquals(200, get(proxy, "/after-server-gone"));
    }
  }

  static String stat(ProxyHarness proxy, String name) throws Exception {
    for (String line : proxy.admin("/stats").split("\n")) {
      if (line.startsWith(name + ": ")) {
        return line.substring(name.length() + 2).trim();
      }
    }
    return "absent";
  }
}
