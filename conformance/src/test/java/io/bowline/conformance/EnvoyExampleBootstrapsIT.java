package io.bowline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.bowline.xds.bootstrap.BootstrapLoader;
import io.bowline.xds.bootstrap.EnvoyTypes;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Envoy's own example bootstraps (../shared/fixtures/envoy/bootstrap): those whose features bowline covers boot and
 * serve; the others are refused at once with a message that names what is not supported. Listener and admin
 * addresses are moved to 127.0.0.1 on ports the OS picks, so the test never collides; nothing else is changed.
 */
class EnvoyExampleBootstrapsIT {
  private static final Path FIXTURES = BowlineProcess.ROOT.resolve("../shared/fixtures/envoy/bootstrap").normalize();

  @TempDir
  Path dir;

  private Path relocated(String name) throws Exception {
    Path src = FIXTURES.resolve(name);
    Assumptions.assumeTrue(Files.exists(src), "fixture missing: " + src);
    Bootstrap.Builder b;
    try {
      b = new BootstrapLoader(false).loadFile(src).bootstrap().toBuilder();
    } catch (io.bowline.xds.ConfigException e) {
      Path copy = dir.resolve(name); // unparseable here: the binary must refuse it the same way
      Files.copy(src, copy);
      return copy;
    }
    Address loopback = Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1")
        .setPortValue(0)).build();
    b.getAdminBuilder().setAddress(loopback); // the test's probe, added where an example has no admin
    for (var l : b.getStaticResourcesBuilder().getListenersBuilderList()) {
      if (l.getAddress().hasSocketAddress()) {
        l.setAddress(loopback);
      }
    }
    Path out = dir.resolve(name.replace(".yaml", ".json"));
    Files.writeString(out, JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).print(b.build()));
    return out;
  }

  @ParameterizedTest(name = "{0} boots")
  @CsvSource({"configs-envoy-demo.yaml, listener_0, 503, /service/1",
      "examples-front-proxy.envoy.yaml, , 503, /service/1",
      // faults at 0% until the example's runtime files raise them (runtime overrides are not applied yet)
      "examples-fault-injection.envoy.yaml, , 503, /service/1",
      // its first listener serves only /stats/prometheus, from a cluster at the example's admin port (not ours)
      "examples-local-ratelimit.envoy.yaml, , 503, /stats/prometheus"})
  void boots(String name, String listener, int status, String path) throws Exception {
    try (BowlineProcess p = BowlineProcess.start(dir, "-c", relocated(name).toString())) {
      p.awaitReady();
      String listeners = p.get("/listeners").body();
      String first = listeners.lines().findFirst().orElseThrow();
      int port = Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
      // the example clusters name hosts that do not resolve here: Envoy's answer is 503 (no healthy upstream)
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(status, r.statusCode(), r.body());
      assertTrue(r.body().contains("no healthy upstream") || r.body().contains("upstream connect error"), r.body());
    }
  }

  @ParameterizedTest(name = "{0} is refused")
  @CsvSource(delimiter = '|', value = {
      "configs-jwt_authn.yaml|jwt_authn",
      "examples-grpc-bridge-client.envoy.yaml|grpc_http1_bridge",
      "configs-original-dst-cluster-proxy_config.yaml|not supported",
      "configs-internal_listener_proxy.yaml|InternalListener",
      "configs-encapsulate_in_http2_connect.yaml|not supported",
      "configs-terminate_http2_connect.yaml|connect_matcher"})
  void refusedWithAReason(String name, String mention) throws Exception {
    try (BowlineProcess p = BowlineProcess.start(dir, "-c", relocated(name).toString())) {
      assertEquals(1, p.awaitExit(60), p.stderr());
      String err = p.stderr();
      assertTrue(err.contains("error: initializing configuration"), err);
      assertTrue(err.contains(mention), err);
    }
  }
}
