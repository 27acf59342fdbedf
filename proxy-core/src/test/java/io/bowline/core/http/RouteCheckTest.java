package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.compile.RouteCompiler;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.router.Route;
import io.bowline.core.router.RouteAction;
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
  @ValueSource(strings = {"HeaderMatchedRouting", "Redirect"})
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
      RouteRequest.Target target = RouteRequest.parse(path);
      VirtualHost vh = table.virtualHost(authority);
      Route route = vh == null ? null : vh.route(target.path(), target.query(), h);
      boolean tlsRedirect = vh != null && vh.requireTls() != VirtualHost.RequireTls.NONE && !ssl
          && (vh.requireTls() == VirtualHost.RequireTls.ALL || !internal);
      JsonObject v = test.getAsJsonObject("validate");
      if (v.has("cluster_name")) {
        String cluster = !tlsRedirect && route != null && route.action() instanceof RouteAction.Forward f
            ? f.pickCluster(0) : "";
        assertEquals(v.get("cluster_name").getAsString(), cluster, what + " cluster_name");
      }
      if (v.has("virtual_host_name")) {
        assertEquals(v.get("virtual_host_name").getAsString(), vh == null ? "" : vh.name(), what + " vhost");
      }
      if (v.has("path_redirect")) {
        String location = "";
        if (tlsRedirect) {
          location = "https://" + authority + path;
        } else if (route != null && route.action() instanceof RouteAction.Redirect rd) {
          DefaultHttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1,
              HttpMethod.valueOf(in.get("method").getAsString()), path, h);
          location = RedirectBuilder.location(rd, req, target, ssl, route.path().prefix());
        }
        assertEquals(v.get("path_redirect").getAsString(), location, what + " path_redirect");
      }
      if (v.has("path_rewrite") && route != null && route.action() instanceof RouteAction.Forward f) {
        String rewritten = RouteRequest.rewritePath(target.path(), f, route.path().prefix());
        assertEquals(v.get("path_rewrite").getAsString(),
            target.query() == null ? rewritten : rewritten + "?" + target.query(), what + " path_rewrite");
      }
    }
  }
}
