package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.compile.RouteCompiler;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.router.Route;
import io.bowline.core.router.RouteAction;
import io.bowline.core.router.HeaderValueFormat;
import io.bowline.core.router.RequestLine;
import io.bowline.core.router.RouteTable;
import io.bowline.core.router.VirtualHost;
import io.bowline.xds.bootstrap.BootstrapLoader;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Envoy's own route tests ({@code router_check_tool} cases in ../shared/fixtures/envoy/route_check/): each request of
 * a golden file gets the virtual host, cluster, rewritten path and host, and redirect Envoy's tool expects.
 */
class RouteCheckTest {
  static final Path DIR = Path.of("..", "..", "shared", "fixtures", "envoy", "route_check").toAbsolutePath();

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"HeaderMatchedRouting", "Redirect", "Weighted", "TestRoutes"})
  void everyExpectationHolds(String name) throws Exception {
    assumeTrue(Files.isDirectory(DIR), "the fixtures are beside the checkout");
    RouteConfiguration rc = BootstrapLoader.mergeYaml(Files.readString(DIR.resolve(name + ".yaml")),
        RouteConfiguration.newBuilder()).build();
    RouteTable table = RouteCompiler.compile(rc, name, FilterRegistry.empty());
    JsonArray tests = JsonParser.parseString(Files.readString(DIR.resolve(name + ".golden.proto.json")))
        .getAsJsonObject().getAsJsonArray("tests");
    for (JsonElement t : tests) {
      JsonObject test = t.getAsJsonObject();
      JsonObject in = test.getAsJsonObject("input");
      String what = name + " " + test.get("test_name").getAsString();
      String authority = in.get("authority").getAsString();
      String path = in.get("path").getAsString();
      boolean ssl = in.has("ssl") && in.get("ssl").getAsBoolean();
      boolean internal = in.has("internal") && in.get("internal").getAsBoolean();
      HttpHeaders h = new DefaultHttpHeaders();
      h.set("host", authority);
      h.set("x-forwarded-proto", ssl ? "https" : "http");
      if (internal) {
        h.set("x-envoy-internal", "true");
      }
      if (in.has("additional_request_headers")) {
        for (JsonElement e : in.getAsJsonArray("additional_request_headers")) {
          h.add(e.getAsJsonObject().get("key").getAsString(), e.getAsJsonObject().get("value").getAsString());
        }
      }
      String method = in.has("method") ? in.get("method").getAsString() : "GET";
      long random = in.has("random_value") ? in.get("random_value").getAsLong() : 0;
      RequestLine line = RequestLine.of(method, path, ssl ? "https" : "http");
      RouteRequest.Target target = RouteRequest.parse(path);
      VirtualHost vh = table.virtualHost(authority);
      Route route = vh == null ? null : vh.route(target.path(), target.query(), h, line);
      boolean tlsRedirect = vh != null && vh.requireTls() != VirtualHost.RequireTls.NONE && !ssl
          && (vh.requireTls() == VirtualHost.RequireTls.ALL || !internal);
      JsonObject v = test.getAsJsonObject("validate");
      RouteAction.Forward forward = !tlsRedirect && route != null
          && route.action() instanceof RouteAction.Forward f ? f : null;
      // Envoy's tool picks a weighted cluster by random_value modulo the total weight
      RouteAction.WeightedCluster chosen = forward == null || forward.clusterHeader() != null ? null
          : forward.pick((int) (random % Math.max(1, forward.totalWeight())));
      if (v.has("cluster_name")) {
        String cluster = chosen != null ? chosen.name() : forward != null ? h.get(forward.clusterHeader()) : "";
        assertEquals(v.get("cluster_name").getAsString(), cluster, what + " cluster_name");
      }
      if (v.has("virtual_cluster_name")) {
        var vc = vh == null || forward == null ? null : vh.virtualCluster(h, line);
        assertEquals(v.get("virtual_cluster_name").getAsString(), vc == null ? "" : vc.name(),
            what + " virtual cluster");
      }
      String newHost = forward == null ? null : forward.rewrittenHost(h, target.path());
      String host = forward == null ? "" : newHost != null ? newHost : authority;
      if (v.has("host_rewrite")) {
        assertEquals(v.get("host_rewrite").getAsString(), host, what + " host_rewrite");
      }
      if (v.has("request_header_matches") && forward != null) {
        // the request as it goes upstream: rewritten host and path, then the header changes, most specific first
        HttpHeaders up = new DefaultHttpHeaders().add(h);
        up.set("host", host);
        String upPath = RouteRequest.rewritePath(target.path(), forward, route.path().prefix());
        HeaderValueFormat.Context ctx = new HeaderValueFormat.Context() {
          @Override
          public java.net.InetSocketAddress downstreamRemoteAddress() {
            return new java.net.InetSocketAddress("127.0.0.1", 40000);
          }

          @Override
          public java.net.InetSocketAddress downstreamLocalAddress() {
            return new java.net.InetSocketAddress("127.0.0.1", 10000);
          }

          @Override
          public String protocol() {
            return "HTTP/1.1";
          }

          @Override
          public String requestHeader(String n) {
            return h.get(n);
          }
        };
        if (chosen != null) {
          chosen.requestHeaders().apply(up, ctx);
        }
        route.requestHeaders().apply(up, ctx);
        vh.requestHeaders().apply(up, ctx);
        table.requestHeaders().apply(up, ctx);
        RequestLine upLine = RequestLine.of(method, target.query() == null ? upPath : upPath + "?" + target.query(),
            ssl ? "https" : "http");
        assertMatches(v.getAsJsonArray("request_header_matches"), up, upLine, what + " request headers");
      }
      if (v.has("response_header_matches") && route != null
          && route.action() instanceof RouteAction.DirectResponse d) {
        // the proxy's own answer to a direct_response route, with the route's response header changes
        var r = LocalReply.http(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, d.status(),
            d.body() == null ? "" : new String(d.body(), java.nio.charset.StandardCharsets.UTF_8), "envoy");
        try {
          route.responseHeaders().apply(r.headers());
          vh.responseHeaders().apply(r.headers());
          table.responseHeaders().apply(r.headers());
          assertMatches(v.getAsJsonArray("response_header_matches"), r.headers(), line, what + " response headers");
        } finally {
          r.release();
        }
      }
      if (v.has("virtual_host_name")) {
        // Envoy's tool names the virtual host through the route entry, which a direct response does not have
        boolean direct = route != null && route.action() instanceof RouteAction.DirectResponse;
        assertEquals(v.get("virtual_host_name").getAsString(), vh == null || direct ? "" : vh.name(),
            what + " vhost");
      }
      if (v.has("path_redirect")) {
        String location = "";
        if (tlsRedirect) {
          location = "https://" + authority + path;
        } else if (route != null && route.action() instanceof RouteAction.DirectResponse) {
          location = (ssl ? "https://" : "http://") + authority + path; // the tool's answer for a direct response
        } else if (route != null && route.action() instanceof RouteAction.Redirect rd) {
          DefaultHttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1,
              HttpMethod.valueOf(in.get("method").getAsString()), path, h);
          location = RedirectBuilder.location(rd, req, target, ssl, route.path().prefix());
        }
        assertEquals(v.get("path_redirect").getAsString(), location, what + " path_redirect");
      }
      if (v.has("path_rewrite") && v.get("path_rewrite").getAsString().isEmpty()) {
        assertTrue(forward == null, what + " path_rewrite: no forwarding route");
      } else if (v.has("path_rewrite") && route != null && route.action() instanceof RouteAction.Forward f) {
        String rewritten = RouteRequest.rewritePath(target.path(), f, route.path().prefix());
        assertEquals(v.get("path_rewrite").getAsString(),
            target.query() == null ? rewritten : rewritten + "?" + target.query(), what + " path_rewrite");
      }
    }
  }

  /** Each matcher of the golden file, as Envoy's HeaderMatcher, holds for {@code headers}. */
  static void assertMatches(JsonArray matchers, HttpHeaders headers, RequestLine line, String what) throws Exception {
    for (JsonElement m : matchers) {
      if (m.isJsonNull()) {
        continue; // the golden files' trailing commas, which Envoy's lenient reader skips too
      }
      var proto = io.envoyproxy.envoy.config.route.v3.HeaderMatcher.newBuilder();
      com.google.protobuf.util.JsonFormat.parser().merge(m.toString(), proto);
      var matcher = io.bowline.core.compile.HeaderMatchers.compile(proto.build(), what);
      assertTrue(matcher.matches(headers, line), what + ": " + m + " against " + headers);
    }
  }
}
