package io.bowline.core.testing;

import io.bowline.core.boot.Options;
import io.bowline.core.boot.Server;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.xds.bootstrap.BootstrapLoader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The engine started in-process from a bootstrap YAML, on ports it picks itself; stopped by close(). */
public final class ProxyHarness implements AutoCloseable {
  public final Server server;

  private ProxyHarness(Server server) {
    this.server = server;
  }

  /** Starts a proxy; every {@code ${NAME}} in the YAML is replaced from {@code vars}. */
  public static ProxyHarness start(String yaml, Map<String, Object> vars, String... flags) throws Exception {
    return start(FilterRegistry.empty(), yaml, vars, flags);
  }

  /** The same, with HTTP filter extensions (the filters module's tests pass BuiltinFilters.registry()). */
  public static ProxyHarness start(FilterRegistry filters, String yaml, Map<String, Object> vars, String... flags)
      throws Exception {
    String text = yaml;
    for (var e : vars.entrySet()) {
      text = text.replace("${" + e.getKey() + "}", String.valueOf(e.getValue()));
    }
    String[] args = new String[flags.length + 2];
    args[0] = "--concurrency";
    args[1] = "2";
    System.arraycopy(flags, 0, args, 2, flags.length);
    Options options = Options.parse(args);
    var bootstrap = new BootstrapLoader(false).parse(text, BootstrapLoader.Format.YAML).bootstrap();
    Server server = new Server(options, bootstrap, filters);
    server.start();
    return new ProxyHarness(server);
  }

  /**
   * A bootstrap with one HTTP listener, {@code http} (stat prefix {@code in}, router only), whose route configuration
   * has {@code virtualHosts}, and the {@code clusters}: both YAML lists written from column 0.
   */
  public static String httpBootstrap(String virtualHosts, String clusters) {
    return """
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
                  route_config:
                    virtual_hosts:
        """ + virtualHosts.indent(18) + """
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
        """ + clusters.indent(2);
  }

  /** A STATIC cluster with one endpoint on loopback, as one YAML list item. */
  public static String staticCluster(String name, String port) {
    return "- name: " + name + "\n  type: STATIC\n  load_assignment: {cluster_name: " + name + ", endpoints: "
        + "[{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + port
        + "}}}}]}]}\n";
  }

  /** The simplest bootstrap: one HTTP listener routing everything to one cluster at {@code backendPort}. */
  public static String simpleHttp(String extraHcm, String extraCluster) {
    return """
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
                  stat_prefix: ingress
        %s
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: backend
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]
        %s
        """.formatted(extraHcm.indent(10).stripTrailing(), extraCluster.indent(4).stripTrailing());
  }

  public InetSocketAddress listener(String name) {
    return server.listenerAddress(name);
  }

  public int port(String name) {
    return listener(name).getPort();
  }

  public URI uri(String listener, String path) {
    return URI.create("http://127.0.0.1:" + port(listener) + path);
  }

  /** The admin server's address for {@code path}, for a client of the test's own. */
  public URI adminUri(String path) {
    return URI.create("http://127.0.0.1:" + server.adminAddress().getPort() + path);
  }

  public String admin(String path) throws Exception {
    return adminResponse("GET", path).body();
  }

  public HttpResponse<String> adminResponse(String method, String path) throws Exception {
    InetSocketAddress a = server.adminAddress();
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + path))
        .timeout(Duration.ofSeconds(5));
    b = method.equals("POST") ? b.POST(HttpRequest.BodyPublishers.noBody()) : b.GET();
    return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A counter or gauge from /stats, or -1 when absent. */
  public long stat(String name) throws Exception {
    for (String line : admin("/stats").split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return -1;
  }

  /** Waits up to 5 s for a counter or gauge to read {@code expected}; fails naming it when it does not. */
  public void awaitStat(String name, long expected) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    long v;
    while ((v = stat(name)) != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    org.junit.jupiter.api.Assertions.assertEquals(expected, v, name);
  }

  @Override
  public void close() {
    server.shutdown();
  }
}
