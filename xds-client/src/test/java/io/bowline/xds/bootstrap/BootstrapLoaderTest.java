package io.bowline.xds.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class BootstrapLoaderTest {
  private static final String YAML = """
      admin:
        address: {socket_address: {address: 127.0.0.1, port_value: 9901}}
      static_resources:
        listeners:
        - name: l
          address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress
                route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c, timeout: 2.5s}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
      """;

  @Test
  void parsesYamlIntoEnvoyProtos() throws Exception {
    Bootstrap b = new BootstrapLoader(false).parse(YAML, BootstrapLoader.Format.YAML).bootstrap();
    assertEquals(9901, b.getAdmin().getAddress().getSocketAddress().getPortValue());
    HttpConnectionManager hcm = b.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0)
        .getTypedConfig().unpack(HttpConnectionManager.class);
    assertEquals("ingress", hcm.getStatPrefix());
    assertEquals(2500, hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getTimeout().getNanos() / 1_000_000
        + 1000 * hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getTimeout().getSeconds());
  }

  @Test
  void unknownFieldIsRejectedWithItsFullPath() {
    String bad = YAML.replace("stat_prefix: ingress", "stat_prefix: ingress\n          stat_prefx: oops");
    ConfigException e = assertThrows(ConfigException.class,
        () -> new BootstrapLoader(false).parse(bad, BootstrapLoader.Format.YAML));
    assertEquals("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx", e.fieldPath());
    assertTrue(e.getMessage().contains("HttpConnectionManager"), e.getMessage());
  }

  @Test
  void unknownFieldIsDroppedWithAWarningWhenAllowed() throws Exception {
    String bad = YAML.replace("name: l", "name: l\n    bogus: 1");
    BootstrapLoader.Loaded loaded = new BootstrapLoader(true).parse(bad, BootstrapLoader.Format.YAML);
    assertEquals("l", loaded.bootstrap().getStaticResources().getListeners(0).getName());
    assertEquals(1, loaded.warnings().size());
    assertTrue(loaded.warnings().get(0).startsWith("static_resources.listeners[0].bogus"), loaded.warnings().get(0));
  }

  @Test
  void unknownTypeUrlIsNamed() {
    String bad = YAML.replace("envoy.extensions.filters.http.router.v3.Router", "envoy.extensions.filters.http.nope.v3.Nope");
    ConfigException e = assertThrows(ConfigException.class,
        () -> new BootstrapLoader(false).parse(bad, BootstrapLoader.Format.YAML));
    assertTrue(e.fieldPath().endsWith("http_filters[0].typed_config.@type"), e.fieldPath());
  }

  @Test
  void badDurationIsAnErrorNotACrash() {
    String bad = YAML.replace("timeout: 2.5s", "timeout: soon");
    assertThrows(ConfigException.class, () -> new BootstrapLoader(false).parse(bad, BootstrapLoader.Format.YAML));
  }

  /** A wrong scalar (an enum name, a duration without "s", a word for a number or a bool) is named by its path. */
  @Test
  void aWrongScalarIsNamedByItsPath() {
    String route = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config"
        + ".virtual_hosts[0].routes[0].route.timeout";
    String[][] cases = {
        {"timeout: 2.5s", "timeout: 5", route, "invalid duration \"5\": seconds followed by \"s\""},
        {"port_value: 10000", "port_value: abc", "static_resources.listeners[0].address.socket_address.port_value",
            "expected an unsigned integer, got \"abc\""},
        {"port_value: 10000", "port_value: -1", "static_resources.listeners[0].address.socket_address.port_value",
            "expected an unsigned integer, got \"-1\""},
        {"stat_prefix: ingress", "stat_prefix: ingress\n          codec_type: HTTP9",
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.codec_type",
            "expected one of AUTO, HTTP1, HTTP2, HTTP3"},
        {"stat_prefix: ingress", "stat_prefix: ingress\n          use_remote_address: maybe",
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.use_remote_address",
            "expected true or false, got \"maybe\""},
        {"stat_prefix: ingress", "stat_prefix: ingress\n          xff_num_trusted_hops: [1]",
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.xff_num_trusted_hops",
            "expected an unsigned integer, got a list"},
    };
    for (String[] c : cases) {
      String bad = YAML.replace(c[0], c[1]);
      ConfigException e = assertThrows(ConfigException.class,
          () -> new BootstrapLoader(false).parse(bad, BootstrapLoader.Format.YAML), c[1]);
      assertEquals(c[2], e.fieldPath(), c[1]);
      assertTrue(e.getMessage().contains(c[3]), e.getMessage());
    }
  }

  @Test
  void jsonAndCamelCaseNamesParse() throws Exception {
    String json = "{\"admin\":{\"address\":{\"socketAddress\":{\"address\":\"127.0.0.1\",\"portValue\":9000}}}}";
    Bootstrap b = new BootstrapLoader(false).parse(json, BootstrapLoader.Format.JSON).bootstrap();
    assertEquals(9000, b.getAdmin().getAddress().getSocketAddress().getPortValue());
  }

  @Test
  void everyFixtureBootstrapParses() throws Exception {
    Path dir = Path.of("../../shared/fixtures/envoy/bootstrap");
    if (!Files.isDirectory(dir)) {
      dir = Path.of("../shared/fixtures/envoy/bootstrap");
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(dir), "shared fixtures not present");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        try {
          new BootstrapLoader(false).loadFile(f);
        } catch (ConfigException e) {
          // a fixture may use an extension we do not register yet: the message must then name where
          assertTrue(!e.fieldPath().isEmpty(), f + ": " + e.getMessage());
        }
      }
    }
  }
}
