package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.GrpcTestService;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** HTTP/2 (TLS+ALPN, h2c by prior knowledge and by Upgrade), gRPC, WebSocket, TCP, and upstream TLS, end to end. */
@ExtendWith(LeakGuard.class)
class ProtocolsIT {
  private static final String YAML = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: plain
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config: &hcm
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress
                upgrade_configs: [{upgrade_type: websocket}]
                route_config:
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                    - match: {prefix: "/test.Test/"}
                      route: {cluster: grpc, timeout: 5s}
                    - match: {prefix: "/unavailable.Svc/"}
                      route: {cluster: nowhere}
                    - match: {prefix: "/tls/"}
                      route: {cluster: tls_backend, prefix_rewrite: "/echo/"}
                    - match: {prefix: "/"}
                      route: {cluster: backend}
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        - name: tls
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                common_tls_context:
                  alpn_protocols: [h2, http/1.1]
                  tls_certificates: [{certificate_chain: {filename: "${CERT}"}, private_key: {filename: "${KEY}"}}]
            filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config: *hcm
        - name: tcp
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: tcp
                cluster: echo
        clusters:
        - name: backend
          type: STATIC
          load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BACKEND}}}}}]}]}
        - name: grpc
          type: STATIC
          typed_extension_protocol_options:
            envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
              "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
              explicit_http_config: {http2_protocol_options: {}}
          load_assignment: {cluster_name: grpc, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${GRPC}}}}}]}]}
        - name: nowhere
          type: STATIC
          load_assignment: {cluster_name: nowhere, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${DEAD}}}}}]}]}
        - name: tls_backend
          type: STATIC
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
              sni: backend.local
          load_assignment: {cluster_name: tls_backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${TLS_BACKEND}}}}}]}]}
        - name: echo
          type: STATIC
          load_assignment: {cluster_name: echo, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${ECHO}}}}}]}]}
      """;

  static TestBackend backend;
  static TestBackend tlsBackend;
  static Server grpcServer;
  static ServerSocket echo;
  static ProxyHarness proxy;
  static SelfSignedCertificate cert;

  @BeforeAll
  static void start() throws Exception {
    cert = new SelfSignedCertificate("localhost");
    backend = TestBackend.start();
    tlsBackend = TestBackend.startTls(SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build());
    grpcServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new GrpcTestService()).build().start();
    echo = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!echo.isClosed()) {
        try {
          Socket s = echo.accept();
          new Thread(() -> {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
              in.transferTo(out);
            } catch (Exception ignored) {
              // peer went away
            }
          }).start();
        } catch (Exception e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    int dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    proxy = ProxyHarness.start(YAML, Map.of("BACKEND", backend.port(), "GRPC", grpcServer.getPort(),
        "DEAD", dead, "TLS_BACKEND", tlsBackend.port(), "ECHO", echo.getLocalPort(),
        "CERT", cert.certificate().getPath(), "KEY", cert.privateKey().getPath()));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    grpcServer.shutdownNow();
    backend.close();
    tlsBackend.close();
    echo.close();
    cert.delete();
  }

  @Test
  void http2OverTlsWithAlpn() throws Exception {
    HttpClient c = HttpClient.newBuilder().sslContext(TestCerts.trustAll()).version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port("tls")
        + "/echo/h2")).POST(HttpRequest.BodyPublishers.ofString("over h2")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_2, r.version());
    assertEquals(200, r.statusCode());
    assertEquals("over h2", r.body());
    assertEquals("https", r.headers().firstValue("x-echo-h-x-forwarded-proto").orElseThrow());
    assertEquals("HTTP/1.1", r.headers().firstValue("x-echo-protocol").orElseThrow());
  }

  @Test
  void http11OverTls() throws Exception {
    HttpClient c = HttpClient.newBuilder().sslContext(TestCerts.trustAll()).version(HttpClient.Version.HTTP_1_1)
        .build();
    HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port("tls")
        + "/echo/h1")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_1_1, r.version());
    assertEquals(200, r.statusCode());
  }

  @Test
  void h2cByUpgrade() throws Exception {
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = c.send(HttpRequest.newBuilder(proxy.uri("plain", "/echo/up" + i)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertEquals(HttpClient.Version.HTTP_2, r.version());
      assertEquals("/echo/up" + i, r.headers().firstValue("x-echo-uri").orElseThrow());
    }
  }

  @Test
  void upstreamTlsWithSni() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(proxy.uri("plain", "/tls/x"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertEquals("/echo/x", r.headers().firstValue("x-echo-uri").orElseThrow());
  }

  private ManagedChannel grpcChannel() {
    return NettyChannelBuilder.forAddress("127.0.0.1", proxy.port("plain")).usePlaintext().build();
  }

  @Test
  void grpcUnaryAndStreamingThroughH2c() throws Exception {
    ManagedChannel ch = grpcChannel();
    try {
      assertEquals("echo: hi", ClientCalls.blockingUnaryCall(ch, GrpcTestService.UNARY,
          CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "hi"));
      Iterator<String> it = ClientCalls.blockingServerStreamingCall(ch, GrpcTestService.SERVER_STREAM,
          CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "50");
      int n = 0;
      while (it.hasNext()) {
        assertEquals("item " + n, it.next());
        n++;
      }
      assertEquals(50, n);
      List<String> bidi = new ArrayList<>();
      CountDownLatch done = new CountDownLatch(1);
      StreamObserver<String> req = ClientCalls.asyncBidiStreamingCall(ch.newCall(GrpcTestService.BIDI,
          CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)), new StreamObserver<>() {
            public void onNext(String v) {
              bidi.add(v);
            }

            public void onError(Throwable t) {
              done.countDown();
            }

            public void onCompleted() {
              done.countDown();
            }
          });
      for (int i = 0; i < 10; i++) {
        req.onNext("m" + i);
      }
      req.onCompleted();
      assertTrue(done.await(5, TimeUnit.SECONDS));
      assertEquals(10, bidi.size());
      assertEquals("bidi: m9", bidi.get(9));
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void grpcStatusAndTrailersPassIntact() {
    ManagedChannel ch = grpcChannel();
    try {
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(ch, GrpcTestService.FAIL, CallOptions.DEFAULT, "x"));
      assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
      assertEquals("no: x", e.getStatus().getDescription());
      Metadata trailers = e.getTrailers();
      assertEquals("kept", trailers.get(GrpcTestService.TRAILER));
      StatusRuntimeException u = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(ch, GrpcTestService.method("unavailable.Svc", "X",
              io.grpc.MethodDescriptor.MethodType.UNARY), CallOptions.DEFAULT, "x"));
      assertEquals(Status.Code.UNAVAILABLE, u.getStatus().getCode());
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void webSocketUpgradeRelaysFrames() throws Exception {
    List<String> got = new ArrayList<>();
    CompletableFuture<Void> reply = new CompletableFuture<>();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port("plain") + "/ws"), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            got.add(data.toString());
            reply.complete(null);
            return null;
          }
        }).get(5, TimeUnit.SECONDS);
    ws.sendText("hello", true);
    reply.get(5, TimeUnit.SECONDS);
    assertEquals("echo: hello", got.get(0));
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
  }

  @Test
  void tcpProxyRelaysBytes() throws Exception {
    try (Socket s = new Socket("127.0.0.1", proxy.port("tcp"))) {
      s.setSoTimeout(3000);
      byte[] msg = new byte[200_000];
      new java.util.Random(7).nextBytes(msg);
      Thread writer = new Thread(() -> {
        try {
          s.getOutputStream().write(msg);
          s.getOutputStream().flush();
        } catch (Exception ignored) {
          // the assertion below reports it
        }
      });
      writer.start();
      byte[] back = s.getInputStream().readNBytes(msg.length);
      assertTrue(java.util.Arrays.equals(msg, back));
    }
  }
}
