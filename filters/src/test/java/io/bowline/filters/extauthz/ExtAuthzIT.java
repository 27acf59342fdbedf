package io.bowline.filters.extauthz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ext_authz against a real gRPC authorization server started here: what the service is told, its OK with headers
 * added and removed, its denial with status, headers and body, a slow service answered by status_on_error, and a
 * route that turns the check off.
 */
@ExtendWith(LeakGuard.class)
class ExtAuthzIT {
  static final class Authorizer extends AuthorizationGrpc.AuthorizationImplBase {
    final List<CheckRequest> seen = new CopyOnWriteArrayList<>();

    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> done) {
      seen.add(request);
      var http = request.getAttributes().getRequest().getHttp();
      if (http.getPath().startsWith("/slow")) {
        return; // never answers: the proxy's timeout decides
      }
      if ("yes".equals(http.getHeadersMap().get("x-allow"))) {
        done.onNext(CheckResponse.newBuilder().setStatus(com.google.rpc.Status.newBuilder().setCode(0))
            .setOkResponse(OkHttpResponse.newBuilder()
                .addHeaders(HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey("x-authz")
                    .setValue("checked")))
                .addHeadersToRemove("x-secret")).build());
      } else {
        done.onNext(CheckResponse.newBuilder().setStatus(com.google.rpc.Status.newBuilder().setCode(7))
            .setDeniedResponse(DeniedHttpResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Unauthorized))
                .addHeaders(HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey("x-denied")
                    .setValue("policy-7")))
                .setBody("not you")).build());
      }
      done.onCompleted();
    }
  }

  @Test
  void theServiceDecides() throws Exception {
    Authorizer authorizer = new Authorizer();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
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
                      - match: {prefix: "/public"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.ext_authz: {"@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute, disabled: true}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      transport_api_version: V3
                      grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 2s}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: authz
            type: STATIC
            load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml,
            Map.of("PORT", backend.port(), "AUTHZ", server.getPort()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> ok = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/a?q=1"))
          .header("x-allow", "yes").header("x-secret", "s3cr3t").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ok.statusCode());
      assertEquals("checked", ok.headers().firstValue("x-echo-h-x-authz").orElseThrow());
      assertFalse(ok.headers().firstValue("x-echo-h-x-secret").isPresent(), "headers_to_remove");
      var asked = authorizer.seen.get(0).getAttributes();
      assertEquals("GET", asked.getRequest().getHttp().getMethod());
      assertEquals("/echo/a?q=1", asked.getRequest().getHttp().getPath());
      assertEquals("q=1", asked.getRequest().getHttp().getQuery());
      assertEquals("127.0.0.1", asked.getSource().getAddress().getSocketAddress().getAddress());
      assertTrue(asked.getRequest().getHttp().getHeadersMap().containsKey("x-request-id"));

      // HOSTILE-INPUTS HDR-10: bytes that are not UTF-8 in a header reach the service as characters, and the call
      // is an ordinary check (allowed here), not a failure that failure_mode_allow or status_on_error would decide
      try (java.net.Socket raw = new java.net.Socket("127.0.0.1", proxy.port("http"))) {
        raw.setSoTimeout(10_000);
        raw.getOutputStream().write("GET /echo/latin1 HTTP/1.1\r\nHost: x\r\nx-allow: yes\r\nx-name: caf\u00e9 \u00ff\r\nConnection: close\r\n\r\n"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        String r = new String(raw.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
      }
      var latin1 = authorizer.seen.get(1).getAttributes().getRequest().getHttp();
      assertEquals("caf\u00e9 \u00ff", latin1.getHeadersMap().get("x-name"));
      authorizer.seen.remove(1);

      HttpResponse<String> denied = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/b"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, denied.statusCode());
      assertEquals("not you", denied.body());
      assertEquals("policy-7", denied.headers().firstValue("x-denied").orElseThrow());

      HttpResponse<String> slow = client.send(HttpRequest.newBuilder(proxy.uri("http", "/slow"))
          .header("x-allow", "yes").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(403, slow.statusCode(), "a service that does not answer in time: status_on_error");

      HttpResponse<String> open = client.send(HttpRequest.newBuilder(proxy.uri("http", "/public/x"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, open.statusCode());
      assertEquals(3, authorizer.seen.size(), "the public route was never checked");
      assertEquals(2, proxy.stat("http.in.ext_authz.ok"));
      assertEquals(1, proxy.stat("http.in.ext_authz.denied"));
      assertEquals(1, proxy.stat("http.in.ext_authz.error"));
      assertEquals(2, backend.requestsTo("/echo"), "only the allowed requests reached the backend");
    } finally {
      server.shutdownNow();
    }
  }

  @Test
  void anHttpServiceDecides() throws Exception {
    List<String> checks = new CopyOnWriteArrayList<>();
    try (io.bowline.core.testing.ScriptedBackend authz = io.bowline.core.testing.ScriptedBackend.start(req -> {
          checks.add(req.method() + " " + req.uri() + " x-allow=" + req.headers().get("x-allow")
              + " cookie=" + req.headers().get("cookie"));
          boolean allow = "yes".equals(req.headers().get("x-allow"));
          var r = new io.netty.handler.codec.http.DefaultFullHttpResponse(
              io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
              allow ? io.netty.handler.codec.http.HttpResponseStatus.OK
                  : io.netty.handler.codec.http.HttpResponseStatus.FORBIDDEN,
              io.netty.buffer.Unpooled.copiedBuffer(allow ? "" : "denied by http authz",
                  java.nio.charset.StandardCharsets.US_ASCII));
          r.headers().set("content-length", r.content().readableBytes());
          r.headers().set("x-authz-user", "alice");
          r.headers().set("x-reason", "no x-allow");
          return r;
        });
        TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), """
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
                      route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                      http_filters:
                      - name: envoy.filters.http.ext_authz
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                          http_service:
                            server_uri: {uri: "http://authz/", cluster: authz, timeout: 2s}
                            path_prefix: /check
                            authorization_request: {allowed_headers: {patterns: [{exact: x-allow}]}}
                            authorization_response:
                              allowed_upstream_headers: {patterns: [{exact: x-authz-user}]}
                              allowed_client_headers: {patterns: [{exact: x-reason}]}
                      - name: envoy.filters.http.router
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
              clusters:
              - name: backend
                type: STATIC
                load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
              - name: authz
                type: STATIC
                load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
            """, Map.of("PORT", backend.port(), "AUTHZ", authz.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> ok = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/x?y=1"))
          .header("x-allow", "yes").header("cookie", "session=s").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ok.statusCode());
      assertEquals("alice", ok.headers().firstValue("x-echo-h-x-authz-user").orElseThrow());
      HttpResponse<String> no = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo/x"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(403, no.statusCode());
      assertEquals("denied by http authz", no.body());
      assertEquals("no x-allow", no.headers().firstValue("x-reason").orElseThrow());
      assertFalse(no.headers().firstValue("x-authz-user").isPresent(), "not an allowed client header");
      assertEquals("GET /check/echo/x?y=1 x-allow=yes cookie=null", checks.get(0),
          "method, path_prefix + path, allowed headers only");
    }
  }

  /** Istio's CUSTOM action: a shadow RBAC policy marks the requests, ext_authz checks only those. */
  @Test
  void istioCustomPoliciesGateTheCheck() throws Exception {
    Authorizer authorizer = new Authorizer();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
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
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      shadow_rules:
                        action: DENY
                        policies:
                          "istio-ext-authz-ns[default]-policy[admin]-rule[0]":
                            permissions: [{url_path: {path: {prefix: /admin}}}]
                            principals: [{any: true}]
                      shadow_rules_stat_prefix: istio_ext_authz_
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 2s}
                      filter_enabled_metadata:
                        filter: envoy.filters.http.rbac
                        path: [{key: istio_ext_authz_shadow_effective_policy_id}]
                        value: {string_match: {prefix: istio-ext-authz}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: authz
            type: STATIC
            load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml,
            Map.of("PORT", backend.port(), "AUTHZ", server.getPort()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/public")).timeout(Duration.ofSeconds(10))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode(), "no CUSTOM policy: not checked");
      assertEquals(401, client.send(HttpRequest.newBuilder(proxy.uri("http", "/admin")).timeout(Duration.ofSeconds(10))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode(), "a CUSTOM policy: checked, denied");
      assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uri("http", "/admin")).header("x-allow", "yes")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
      assertEquals(2, authorizer.seen.size(), "only the /admin requests reached the authorizer");
    } finally {
      server.shutdownNow();
    }
  }

  /**
   * with_request_body: the authorizer sees the body (or its first max_request_bytes with x-envoy-auth-partial-body
   * when allow_partial_message), a longer body without it is refused with 413 before any check, and the upstream
   * still gets the whole body after the check.
   */
  @Test
  void theServiceSeesTheBody() throws Exception {
    Authorizer authorizer = new Authorizer();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
    String listener = """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: NAME
                  route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 2s}
                      with_request_body: BODY
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
        """ + listener.replace("NAME", "whole").replace("BODY", "{max_request_bytes: 64}")
        + listener.replace("NAME", "partial").replace("BODY", "{max_request_bytes: 16, allow_partial_message: true}")
        + listener.replace("NAME", "raw").replace("BODY", "{max_request_bytes: 64, pack_as_bytes: true}") + """
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: authz
            type: STATIC
            load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml,
            Map.of("PORT", backend.port(), "AUTHZ", server.getPort()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String body = "{\"transfer\": 100, \"to\": \"alice\"}";
      HttpResponse<String> whole = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.port("whole") + "/echo/pay")).header("x-allow", "yes").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, whole.statusCode());
      assertEquals(body, whole.body(), "the upstream gets the body after the check");
      var asked = authorizer.seen.get(0).getAttributes().getRequest().getHttp();
      assertEquals(body, asked.getBody());
      assertEquals(body.length(), asked.getSize());
      assertEquals("false", asked.getHeadersMap().get("x-envoy-auth-partial-body"));
      assertFalse(whole.headers().firstValue("x-echo-h-x-envoy-auth-partial-body").isPresent(),
          "the partial-body header is for the authorizer only");

      String big = "x".repeat(100);
      HttpResponse<String> tooBig = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.port("whole") + "/echo/big")).header("x-allow", "yes").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString(big)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(413, tooBig.statusCode());
      assertEquals(1, authorizer.seen.size(), "refused before asking");

      HttpResponse<String> partial = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.port("partial") + "/echo/big")).header("x-allow", "yes").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString(big)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, partial.statusCode());
      assertEquals(big, partial.body());
      var cut = authorizer.seen.get(1).getAttributes().getRequest().getHttp();
      assertEquals("x".repeat(16), cut.getBody());
      assertEquals("true", cut.getHeadersMap().get("x-envoy-auth-partial-body"));

      HttpResponse<String> raw = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.port("raw") + "/echo/raw")).header("x-allow", "yes").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, raw.statusCode());
      var packed = authorizer.seen.get(2).getAttributes().getRequest().getHttp();
      assertEquals(body, packed.getRawBody().toStringUtf8());
      assertEquals("", packed.getBody());

      HttpResponse<String> get = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.port("whole") + "/echo/get")).header("x-allow", "yes").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, get.statusCode(), "a request without a body is checked at once");
    } finally {
      server.shutdownNow();
    }
  }

  /** ExtAuthzPerRoute.check_settings: context extensions reach the service; a route may skip body buffering. */
  @Test
  void routesAddContextAndSkipTheBody() throws Exception {
    Authorizer authorizer = new Authorizer();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
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
                      - match: {prefix: "/ctx"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.ext_authz: {"@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute, check_settings: {context_extensions: {tenant: blue}}}
                      - match: {prefix: "/nobody"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.ext_authz: {"@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute, check_settings: {disable_request_body_buffering: true}}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 2s}
                      with_request_body: {max_request_bytes: 64}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: authz
            type: STATIC
            load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml,
            Map.of("PORT", backend.port(), "AUTHZ", server.getPort()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      for (String path : new String[] {"/ctx/a", "/nobody/a", "/echo/a"}) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", path)).header("x-allow", "yes")
            .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("a body")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path);
      }
      var ctx = authorizer.seen.get(0).getAttributes();
      assertEquals(Map.of("tenant", "blue"), ctx.getContextExtensionsMap());
      assertEquals("a body", ctx.getRequest().getHttp().getBody());
      var nobody = authorizer.seen.get(1).getAttributes();
      assertEquals("", nobody.getRequest().getHttp().getBody(), "disable_request_body_buffering");
      assertTrue(nobody.getContextExtensionsMap().isEmpty());
      assertEquals("a body", authorizer.seen.get(2).getAttributes().getRequest().getHttp().getBody());
    } finally {
      server.shutdownNow();
    }
  }

  /**
   * With Envoy's default 200 ms timeout, the very first check after start is answered by the service, not by
   * status_on_error: the channel to the authorization cluster is set up while the proxy starts, not on that request.
   */
  @Test
  void theFirstCheckAfterStartIsAnswered() throws Exception {
    Authorizer authorizer = new Authorizer();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(authorizer)
        .build().start();
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
                  route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service: {envoy_grpc: {cluster_name: "outbound|9191||authz.local"}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
          - name: "outbound|9191||authz.local"
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment: {cluster_name: authz, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${AUTHZ}}}}}]}]}
        """;
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml,
            Map.of("PORT", backend.port(), "AUTHZ", server.getPort()))) {
      Thread.sleep(500); // a proxy that has just started, with nothing sent yet
      HttpResponse<String> first = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
          HttpRequest.newBuilder(proxy.uri("http", "/echo/first")).header("x-allow", "yes")
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, first.statusCode(), first.body());
      assertEquals(1, authorizer.seen.size());
    } finally {
      server.shutdownNow();
    }
  }
}
