package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Route matching on pseudo-headers, as Istio compiles a VirtualService's {@code method} and {@code scheme} matches
 * ({@code :method}, {@code :scheme}), and header values with Envoy's substitution commands.
 */
@ExtendWith(LeakGuard.class)
class PseudoHeadersAndFormatsIT {
  static TestBackend backend;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = TestBackend.start();
    String routes = """
        - match: {prefix: "/echo", headers: [{name: ":method", string_match: {exact: POST}}]}
          route: {cluster: backend}
          request_headers_to_add:
          - header: {key: x-matched, value: post}
          - header: {key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}
          - header: {key: x-said, value: "[%REQ(X-Say)%] over %PROTOCOL%, 100%% sure"}
          - header: {key: x-absent, value: "%REQ(x-nothing)%"}
          response_headers_to_add:
          - header: {key: x-port, value: "%DOWNSTREAM_LOCAL_PORT%"}
        - match: {prefix: "/echo", headers: [{name: ":scheme", string_match: {exact: https}}]}
          direct_response: {status: 418}
        - match: {prefix: "/echo"}
          route: {cluster: backend}
          request_headers_to_add: [{header: {key: x-matched, value: other}}]
        """;
    String base = ProxyHarness.simpleHttp("", "");
    String catchAll = "- match: {prefix: \"/\"}";
    int at = base.indexOf(catchAll);
    int column = at - base.lastIndexOf('\n', at) - 1;
    int end = base.indexOf('\n', base.indexOf('\n', at) + 1);
    String yaml = base.substring(0, at - column) + routes.indent(column) + base.substring(end + 1);
    if (!yaml.contains("x-matched")) {
      throw new IllegalStateException("the route block of ProxyHarness.simpleHttp changed shape");
    }
    proxy = ProxyHarness.start(yaml, Map.of("BACKEND", backend.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  @Test
  void methodMatchingAndSubstitutions() throws Exception {
    HttpResponse<String> post = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo"))
        .timeout(Duration.ofSeconds(10)).header("x-say", "hi")
        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, post.statusCode());
    assertEquals("post", post.headers().firstValue("x-echo-h-x-matched").orElse(""));
    assertEquals("127.0.0.1", post.headers().firstValue("x-echo-h-x-client").orElse(""));
    assertEquals("[hi] over HTTP/1.1, 100% sure", post.headers().firstValue("x-echo-h-x-said").orElse(""));
    assertFalse(post.headers().firstValue("x-echo-h-x-absent").isPresent(), "an empty value is not added");
    assertEquals(Integer.toString(proxy.port("http")), post.headers().firstValue("x-port").orElse(""));

    HttpResponse<String> get = client.send(HttpRequest.newBuilder(proxy.uri("http", "/echo"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, get.statusCode(), "plaintext: the :scheme https route does not match");
    assertEquals("other", get.headers().firstValue("x-echo-h-x-matched").orElse(""));
  }

  @Test
  void formatsParseOnceAndRefuseWhatTheyDoNotKnow() {
    assertNull(HeaderValueFormat.parse("plain 100%% text"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HeaderValueFormat.parse("%UPSTREAM_METADATA([\"istio\"])%"));
    assertEquals(true, e.getMessage().contains("UPSTREAM_METADATA"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HeaderValueFormat.parse("50% off"));
  }
}
