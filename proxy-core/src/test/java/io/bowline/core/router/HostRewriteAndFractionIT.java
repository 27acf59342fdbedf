package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * host_rewrite_header and host_rewrite_path_regex; uri_template path matching and rewriting; a route matching a
 * runtime_fraction of its requests.
 */
@ExtendWith(LeakGuard.class)
class HostRewriteAndFractionIT {
  static TestBackend backend;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    String yaml = ProxyHarness.httpBootstrap("""
        - name: all
          domains: ["*"]
          routes:
          - match: {prefix: "/by-header/"}
            route: {cluster: backend, prefix_rewrite: "/echo/", host_rewrite_header: x-upstream-host}
          - match: {prefix: "/tenants/"}
            route:
              cluster: backend
              prefix_rewrite: "/echo/"
              host_rewrite_path_regex:
                pattern: {regex: "^/tenants/([^/]+)/.*$"}
                substitution: \\1.internal
          - match:
              path_match_policy:
                name: envoy.path.match.uri_template.uri_template_matcher
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig
                  path_template: "/shelves/{shelf}/books/{book=**}"
            route:
              cluster: backend
              path_rewrite_policy:
                name: envoy.path.rewrite.uri_template.uri_template_rewriter
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig
                  path_template_rewrite: "/echo/{book}/on/{shelf}"
          - match:
              prefix: "/canary/"
              runtime_fraction: {default_value: {numerator: 25, denominator: HUNDRED}, runtime_key: canary}
            route: {cluster: backend, prefix_rewrite: "/echo/canary/"}
          - match: {prefix: "/canary/"}
            route: {cluster: backend, prefix_rewrite: "/echo/stable/"}
        """, ProxyHarness.staticCluster("backend", "${BACKEND}"));
    proxy = ProxyHarness.start(yaml, Map.of("BACKEND", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theHostComesFromTheNamedHeaderWhenTheRequestHasIt() throws Exception {
    HttpResponse<String> r = get("/by-header/x", "x-upstream-host", "api.internal");
    assertEquals("api.internal", r.headers().firstValue("x-echo-h-host").orElse(""));
    assertTrue(r.headers().firstValue("x-echo-h-x-forwarded-host").orElse("").startsWith("127.0.0.1:"),
        "the original host is kept in x-forwarded-host");
    HttpResponse<String> without = get("/by-header/y");
    assertTrue(without.headers().firstValue("x-echo-h-host").orElse("").startsWith("127.0.0.1:"),
        "no header: the host is kept");
  }

  @Test
  void theHostComesFromThePathThroughTheRegex() throws Exception {
    HttpResponse<String> r = get("/tenants/acme/orders?x=1");
    assertEquals("acme.internal", r.headers().firstValue("x-echo-h-host").orElse(""));
  }

  @Test
  void aUriTemplateMatchesAndItsVariablesRewriteThePath() throws Exception {
    HttpResponse<String> r = get("/shelves/top/books/fiction/dune?edition=2");
    assertEquals(200, r.statusCode());
    assertEquals("/echo/fiction/dune/on/top?edition=2", r.headers().firstValue("x-echo-uri").orElse(""));
    assertEquals(404, get("/shelves/top").statusCode(), "no match, no route");
  }

  @Test
  void aRuntimeFractionMatchTakesItsShareAndTheRestFallsThrough() throws Exception {
    int canary = 0;
    for (int i = 0; i < 400; i++) {
      String uri = get("/canary/" + i).headers().firstValue("x-echo-uri").orElse("");
      if (uri.startsWith("/echo/canary/")) {
        canary++;
      } else {
        assertTrue(uri.startsWith("/echo/stable/"), uri);
      }
    }
    assertTrue(canary >= 60 && canary <= 140, "25% of 400 expected, got " + canary);
  }
}
