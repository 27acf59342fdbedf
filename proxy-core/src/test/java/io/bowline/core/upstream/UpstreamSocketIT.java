package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code upstream_bind_config.source_address} (how Istio makes a sidecar's inbound traffic come from 127.0.0.6) and
 * {@code upstream_connection_options.tcp_keepalive}, for HTTP and tcp_proxy upstream connections: a backend that
 * answers with the address each connection came from.
 */
@ExtendWith(LeakGuard.class)
class UpstreamSocketIT {
  static ServerSocket backend;
  static Thread acceptor;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    backend = new ServerSocket();
    backend.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    acceptor = new Thread(UpstreamSocketIT::serve, "peer-address-backend");
    acceptor.setDaemon(true);
    acceptor.start();
    String yaml = """
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
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/bound"}
                        route: {cluster: bound}
                      - match: {prefix: "/"}
                        route: {cluster: plain}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: bound
          - name: tcp-prio
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp_prio
                  cluster: prio
          clusters:
          - name: prio
            type: STATIC
            load_assignment:
              cluster_name: prio
              endpoints:
              - priority: 0
                lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${DEAD}}}}, health_status: UNHEALTHY}]
              - priority: 1
                lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]
          - name: bound
            type: STATIC
            upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}}
            upstream_connection_options: {tcp_keepalive: {keepalive_time: 300, keepalive_interval: 30, keepalive_probes: 3}}
            load_assignment: {cluster_name: bound, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: plain
            type: STATIC
            load_assignment: {cluster_name: plain, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    int dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.getLocalPort(), "DEAD", dead));
  }

  /** Each connection: read one request head, answer with the connection's source address and keep-alive option. */
  static void serve() {
    while (!backend.isClosed()) {
      try {
        Socket s = backend.accept();
        Thread t = new Thread(() -> answer(s));
        t.setDaemon(true);
        t.start();
      } catch (Exception e) {
        return;
      }
    }
  }

  static void answer(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      s.setSoTimeout(10_000);
      while (true) {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
          head.append((char) c);
          if (head.toString().endsWith("\r\n\r\n")) {
            break;
          }
        }
        if (c < 0) {
          return;
        }
        byte[] body = s.getInetAddress().getHostAddress().getBytes(StandardCharsets.US_ASCII);
        out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
      }
    } catch (Exception e) {
      // the proxy closed the connection
    }
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  static String get(String path) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  @Test
  void httpConnectionsComeFromTheBoundSourceAddress() throws Exception {
    assertEquals("127.0.0.6", get("/bound"));
    assertEquals("127.0.0.1", get("/plain"), "a cluster without upstream_bind_config connects from anywhere");
  }

  @Test
  void tcpProxyConnectionsToo() throws Exception {
    try (Socket s = new Socket("127.0.0.1", proxy.port("tcp"))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nhost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String response = new String(s.getInputStream().readNBytes(47), StandardCharsets.US_ASCII);
      assertTrue(response.endsWith("127.0.0.6"), response);
    }
  }

  @Test
  void keepaliveOptionsAreSetOnTheUpstreamBootstrap() {
    var cluster = proxy.server.clusters().get("bound");
    var options = new java.util.HashMap<>(cluster.withSocketOptions(new io.netty.bootstrap.Bootstrap()).config()
        .options());
    options.remove(io.netty.channel.ChannelOption.RCVBUF_ALLOCATOR); // the transport's, on every bootstrap
    assertEquals(Boolean.TRUE, options.get(io.netty.channel.ChannelOption.SO_KEEPALIVE));
    assertEquals(3, options.size() - 1, "probes, time and interval: " + options);
    var plain = proxy.server.clusters().get("plain");
    var plainOptions = new java.util.HashMap<>(plain.withSocketOptions(new io.netty.bootstrap.Bootstrap()).config()
        .options());
    plainOptions.remove(io.netty.channel.ChannelOption.RCVBUF_ALLOCATOR);
    assertTrue(plainOptions.isEmpty(), "no socket options: " + plainOptions);
  }

  @Test
  void tcpProxyChoosesLikeRequestsDo() throws Exception {
    // priority 0's only endpoint is UNHEALTHY: every connection goes to priority 1, none to the dead port
    for (int i = 0; i < 10; i++) {
      try (Socket s = new Socket("127.0.0.1", proxy.port("tcp-prio"))) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET / HTTP/1.1\r\nhost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String response = new String(s.getInputStream().readNBytes(47), StandardCharsets.US_ASCII);
        assertTrue(response.startsWith("HTTP/1.1 200"), "connection " + i + ": " + response);
      }
    }
  }
}
