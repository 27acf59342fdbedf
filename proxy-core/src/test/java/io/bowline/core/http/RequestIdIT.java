package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
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
 * x-request-id as Envoy's connection manager sets it: a new id at the edge (an external client's id is not trusted)
 * unless preserve_external_request_id, where a kept id loses any trace decision packed into it; an internal
 * caller's id passes; always_set_request_id_in_response returns the id, on proxied and local replies alike.
 */
@ExtendWith(LeakGuard.class)
class RequestIdIT {
  private static final String PACKED = "1b4e28ba-2fa1-91d2-883f-0016d3cca427"; // '9': a proxy sampled it

  private static String listener(String name, String internal, String options) {
    return """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: NAME
                  use_remote_address: true
                  internal_address_config: {cidr_ranges: [{address_prefix: INTERNAL, prefix_len: 8}]}
                  OPTIONS
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/local"}
                        direct_response: {status: 204}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.replace("NAME", name).replace("INTERNAL", internal).replace("OPTIONS", options);
  }

  @Test
  void edgeRequestsGetEnvoysRequestIds() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    String yaml = "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
        + "static_resources:\n  listeners:\n"
        + listener("edge", "10.0.0.0", "always_set_request_id_in_response: true")
        + listener("inside", "127.0.0.0", "always_set_request_id_in_response: true")
        + listener("preserving", "10.0.0.0", "preserve_external_request_id: true")
        + listener("unpacked", "10.0.0.0", "preserve_external_request_id: true\n          request_id_extension: "
            + "{typed_config: {\"@type\": type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig, "
            + "pack_trace_reason: false}}")
        + """
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """;
    try (ScriptedBackend backend = ScriptedBackend.start(req -> {
          seen.add(String.valueOf(req.headers().get("x-request-id")));
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
              Unpooled.EMPTY_BUFFER);
          r.headers().set("content-length", 0);
          return r;
        });
        ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("PORT", backend.port()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

      // the edge: an external client's id is replaced, and the new one comes back in the response
      HttpResponse<Void> r = send(client, proxy.uri("edge", "/a"), Map.of("x-request-id", PACKED));
      String issued = seen.get(0);
      assertNotEquals(PACKED, issued);
      assertTrue(issued.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), issued);
      assertEquals(issued, r.headers().firstValue("x-request-id").orElse(null));
      // a caller inside (its address is internal) keeps its id
      r = send(client, proxy.uri("inside", "/b"), Map.of("x-request-id", PACKED));
      assertEquals(PACKED, seen.get(1));
      assertEquals(PACKED, r.headers().firstValue("x-request-id").orElse(null));
      // a local reply carries it too
      r = send(client, proxy.uri("edge", "/local"), Map.of());
      assertEquals(204, r.statusCode());
      assertTrue(r.headers().firstValue("x-request-id").orElse("").length() == 36, r.headers().map().toString());

      // preserve_external_request_id: kept, but a trace decision packed into it is cleared (4: a fresh id's digit)
      r = send(client, proxy.uri("preserving", "/c"), Map.of("x-request-id", PACKED));
      assertEquals(PACKED.replace("-91d2-", "-41d2-"), seen.get(2));
      assertFalse(r.headers().firstValue("x-request-id").isPresent(), "not asked for in the response");
      r = send(client, proxy.uri("preserving", "/d"), Map.of("x-request-id", "not-a-uuid"));
      assertEquals("not-a-uuid", seen.get(3), "an id of another form passes as it is");
      send(client, proxy.uri("preserving", "/e"), Map.of());
      assertEquals(36, seen.get(4).length(), "none sent: one is made");

      // pack_trace_reason false: the id passes untouched
      send(client, proxy.uri("unpacked", "/f"), Map.of("x-request-id", PACKED));
      assertEquals(PACKED, seen.get(5));
    }
  }

  private static HttpResponse<Void> send(HttpClient client, java.net.URI uri, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
    headers.forEach(b::header);
    return client.send(b.build(), HttpResponse.BodyHandlers.discarding());
  }
}
