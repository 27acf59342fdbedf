package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;

/** Sticky sessions, as Istio's DestinationRule consistentHash compiles: the same key always reaches the same host. */
@ExtendWith(LeakGuard.class)
class ConsistentHashIT {
  /** One listener to a cluster of {@code backends} balanced by {@code policy}; routes get their hash_policy after. */
  static String hashBootstrap(String policy, List<TestBackend> backends) {
    String endpoints = "endpoints: [{lb_endpoints: [" + String.join(", ", backends.stream().map(b ->
        "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + b.port() + "}}}}").toList())
        + "]}]";
    return ProxyHarness.simpleHttp("", "lb_policy: " + policy)
        .replace("endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
            + "port_value: ${BACKEND}}}}}]}]", endpoints);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"RING_HASH", "MAGLEV"})
  void theSameKeyStaysOnOneHostAndKeysSpread(String policy) throws Exception {
    List<TestBackend> backends = List.of(TestBackend.start(), TestBackend.start(), TestBackend.start());
    try {
      String yaml = hashBootstrap(policy, backends)
          .replace("route: {cluster: backend}", "route: {cluster: backend, hash_policy: [{header: {header_name: "
              + "x-user}}]}");
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of())) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 30; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/alice/" + i))
              .header("x-user", "alice").build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        long hostsForAlice = backends.stream().filter(b -> b.requestsTo("/alice") > 0).count();
        assertEquals(1, hostsForAlice, "one user, one host");
        for (int u = 0; u < 60; u++) {
          client.send(HttpRequest.newBuilder(proxy.uri("http", "/many/" + u)).header("x-user", "user-" + u).build(),
              HttpResponse.BodyHandlers.discarding());
        }
        long used = backends.stream().filter(b -> b.requestsTo("/many") > 0).count();
        assertTrue(used == 3, "60 users spread over the 3 hosts: " + used);
      }
    } finally {
      backends.forEach(TestBackend::close);
    }
  }

  /**
   * Istio's {@code consistentHash.httpCookie} with a TTL: the proxy generates the cookie on a client's first request
   * (Set-Cookie with Max-Age, Path, HttpOnly), and the client's requests carrying it stay on the host the first went to.
   */
  @org.junit.jupiter.api.Test
  void aGeneratedCookieMakesTheFirstRequestSticky() throws Exception {
    List<TestBackend> backends = List.of(TestBackend.start(), TestBackend.start(), TestBackend.start());
    try {
      String yaml = hashBootstrap("RING_HASH", backends)
          .replace("route: {cluster: backend}", "route: {cluster: backend, hash_policy: [{cookie: {name: sticky, "
              + "ttl: 3600s, path: /}}]}");
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of())) {
        java.util.Set<String> cookies = new java.util.HashSet<>();
        for (int client = 0; client < 6; client++) {
          HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(); // its own connection
          HttpResponse<Void> first = c.send(HttpRequest.newBuilder(proxy.uri("http", "/c" + client + "/first"))
              .build(), HttpResponse.BodyHandlers.discarding());
          String setCookie = first.headers().firstValue("set-cookie").orElseThrow();
          assertTrue(setCookie.matches("sticky=\"[0-9a-f]{16}\"; Max-Age=3600; Path=/; HttpOnly"), setCookie);
          String cookie = setCookie.substring(0, setCookie.indexOf(';'));
          cookies.add(cookie);
          for (int i = 0; i < 10; i++) {
            HttpResponse<Void> r = c.send(HttpRequest.newBuilder(proxy.uri("http", "/c" + client + "/next"))
                .header("cookie", "other=1; " + cookie).build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("set-cookie").isEmpty(), "a request with the cookie gets none");
          }
          String prefix = "/c" + client + "/";
          List<TestBackend> used = backends.stream().filter(b -> b.requestsTo(prefix) > 0).toList();
          assertEquals(1, used.size(), "client " + client + ": its first request and the next ten on one host");
          assertEquals(11, used.get(0).requestsTo(prefix));
        }
        assertTrue(cookies.size() >= 5, "each connection gets its own cookie: " + cookies);
      }
    } finally {
      backends.forEach(TestBackend::close);
    }
  }

  /**
   * A test filter that copies {@code x-user} into the stream's filter state as {@code user}; the registry keys filters
   * by config type, so it borrows the (otherwise unused here) health_check filter's config type.
   */
  static final class UserToFilterState implements io.bowline.core.filter.HttpFilterFactory<
      io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck> {
    @Override
    public String name() {
      return "test.user_to_filter_state";
    }

    @Override
    public String configTypeName() {
      return "envoy.extensions.filters.http.health_check.v3.HealthCheck";
    }

    @Override
    public Class<io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck> configType() {
      return io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck.class;
    }

    @Override
    public io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck defaultConfig() {
      return io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck.getDefaultInstance();
    }

    @Override
    public io.bowline.core.filter.HttpFilterProvider create(
        io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck config, FactoryContext context) {
      return callbacks -> new io.bowline.core.filter.HttpFilter() {
        @Override
        public io.bowline.core.filter.FilterStatus onRequestHeaders(io.netty.handler.codec.http.HttpRequest request,
            boolean endStream) {
          String user = request.headers().get("x-user");
          if (user != null) {
            callbacks.setFilterState("user", user);
          }
          return io.bowline.core.filter.FilterStatus.CONTINUE;
        }
      };
    }
  }

  @org.junit.jupiter.api.Test
  void aFilterStateHashPolicyHashesWhatAFilterSet() throws Exception {
    List<TestBackend> backends = List.of(TestBackend.start(), TestBackend.start(), TestBackend.start());
    try {
      String yaml = hashBootstrap("RING_HASH", backends)
          .replace("route: {cluster: backend}", "route: {cluster: backend, hash_policy: [{filter_state: {key: user}}]}")
          .replaceFirst("( *)http_filters:\n", "$1http_filters:\n"
              + "$1- name: test.user_to_filter_state\n"
              + "$1  typed_config: {\"@type\": type.googleapis.com/"
              + "envoy.extensions.filters.http.health_check.v3.HealthCheck, pass_through_mode: true}\n");
      assertTrue(yaml.contains("test.user_to_filter_state"), yaml);
      var filters = new io.bowline.core.filter.FilterRegistry(List.of(new UserToFilterState()));
      try (ProxyHarness proxy = ProxyHarness.start(filters, yaml, Map.of())) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 30; i++) {
          assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/bob/" + i))
              .header("x-user", "bob").build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        assertEquals(1, backends.stream().filter(b -> b.requestsTo("/bob") > 0).count(), "one user, one host");
        for (int u = 0; u < 60; u++) {
          client.send(HttpRequest.newBuilder(proxy.uri("http", "/fs/" + u)).header("x-user", "user-" + u).build(),
              HttpResponse.BodyHandlers.discarding());
        }
        assertEquals(3, backends.stream().filter(b -> b.requestsTo("/fs") > 0).count(), "users spread");
      }
    } finally {
      backends.forEach(TestBackend::close);
    }
  }
}
