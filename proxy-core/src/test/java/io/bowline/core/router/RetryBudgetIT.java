package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.TestBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Retry pacing beyond the exponential backoff: {@code rate_limited_retry_back_off} (the upstream's Retry-After or
 * X-RateLimit-Reset sets the wait, a wait over max_interval is discarded), {@code per_try_idle_timeout}, and a
 * circuit breaker's {@code retry_budget}, which replaces max_retries.
 */
@ExtendWith(LeakGuard.class)
class RetryBudgetIT {
  static ScriptedBackend limited;
  /** Paths answered once with a 503 and the reset headers of the query, then with 200. */
  static final Set<String> seen = ConcurrentHashMap.newKeySet();
  static TestBackend slow;
  static ProxyHarness proxy;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    slow = TestBackend.start();
    limited = ScriptedBackend.start(req -> {
      String uri = req.uri();
      boolean first = uri.startsWith("/always") || seen.add(uri.split("\\?")[0]);
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          first ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
      if (first && uri.contains("?")) {
        for (String kv : uri.substring(uri.indexOf('?') + 1).split("&")) {
          String[] p = kv.split("=");
          r.headers().set(p[0], p[1].equals("now+2") ? Long.toString(System.currentTimeMillis() / 1000 + 2) : p[1]);
        }
      }
      return r;
    });
    int port = limited.port();
    String yaml = ProxyHarness.httpBootstrap("""
        - name: all
          domains: ["*"]
          routes:
          - match: {prefix: "/rl/"}
            route:
              cluster: limited
              retry_policy:
                retry_on: 5xx
                num_retries: 1
                retry_back_off: {base_interval: 0.01s}
                rate_limited_retry_back_off:
                  reset_headers: [{name: Retry-After, format: SECONDS}, {name: X-RateLimit-Reset, format: UNIX_TIMESTAMP}]
                  max_interval: 5s
          - match: {prefix: "/idle/"}
            route: {cluster: slow, prefix_rewrite: "/", retry_policy: {retry_on: 5xx, num_retries: 1, per_try_idle_timeout: 0.3s}}
          - match: {prefix: "/always/budget"}
            route: {cluster: budget, retry_policy: {retry_on: 5xx, num_retries: 3, retry_back_off: {base_interval: 0.3s, max_interval: 0.3s}}}
          - match: {prefix: "/always/plain"}
            route: {cluster: plain, retry_policy: {retry_on: 5xx, num_retries: 3, retry_back_off: {base_interval: 0.3s, max_interval: 0.3s}}}
        """, """
        - name: limited
          type: STATIC
          load_assignment: {cluster_name: limited, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${LIMITED}}}}}]}]}
        - name: slow
          type: STATIC
          load_assignment: {cluster_name: slow, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${SLOW}}}}}]}]}
        - name: budget
          type: STATIC
          circuit_breakers: {thresholds: [{max_retries: 100, retry_budget: {budget_percent: {value: 0}, min_retry_concurrency: 1}}]}
          load_assignment: {cluster_name: budget, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${LIMITED}}}}}]}]}
        - name: plain
          type: STATIC
          circuit_breakers: {thresholds: [{max_retries: 100}]}
          load_assignment: {cluster_name: plain, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${LIMITED}}}}}]}]}
        """);
    proxy = ProxyHarness.start(yaml, Map.of("LIMITED", port, "SLOW", slow.port()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    limited.close();
    slow.close();
  }

  record Timed(int status, long ms) {}

  static Timed get(String path) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("http", path))
        .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    return new Timed(r.statusCode(), (System.nanoTime() - t0) / 1_000_000);
  }

  static long stat(String name) throws Exception {
    return Math.max(0, proxy.stat(name));
  }

  @Test
  void retryAfterSetsTheWait() throws Exception {
    long before = stat("cluster.limited.upstream_rq_retry_backoff_ratelimited");
    Timed t = get("/rl/seconds?Retry-After=1");
    assertEquals(200, t.status());
    assertTrue(t.ms() >= 1000 && t.ms() < 2500, "waited 1 to 1.5 s as Retry-After asked: " + t.ms() + " ms");
    assertEquals(before + 1, stat("cluster.limited.upstream_rq_retry_backoff_ratelimited"));
  }

  @Test
  void aUnixTimestampResetToo() throws Exception {
    Timed t = get("/rl/timestamp?X-RateLimit-Reset=now+2");
    assertEquals(200, t.status());
    assertTrue(t.ms() >= 900 && t.ms() < 4500, "waited until the reset second: " + t.ms() + " ms");
  }

  @Test
  void aWaitOverMaxIntervalIsDiscardedForTheExponentialBackoff() throws Exception {
    long before = stat("cluster.limited.upstream_rq_retry_backoff_exponential");
    Timed t = get("/rl/toolong?Retry-After=600");
    assertEquals(200, t.status());
    assertTrue(t.ms() < 1000, "600 s is over max_interval (5 s): " + t.ms() + " ms");
    assertEquals(before + 1, stat("cluster.limited.upstream_rq_retry_backoff_exponential"));
  }

  @Test
  void anIdleAttemptIsRetriedThenTimedOut() throws Exception {
    long before = stat("cluster.slow.upstream_rq_per_try_idle_timeout");
    Timed t = get("/idle/delay/5000");
    assertEquals(504, t.status());
    assertTrue(t.ms() >= 550 && t.ms() < 3000, "two idle attempts of 0.3 s: " + t.ms() + " ms");
    assertEquals(before + 2, stat("cluster.slow.upstream_rq_per_try_idle_timeout"));
    assertEquals(200, get("/idle/delay/100").status(), "an attempt that answers in time");
  }

  @Test
  void aRetryBudgetCapsConcurrentRetriesAndReplacesMaxRetries() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (String route : List.of("budget", "plain")) {
      for (int i = 0; i < 6; i++) {
        inFlight.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("http", "/always/" + route + "/" + i))
            .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString()));
      }
    }
    for (var f : inFlight) {
      assertEquals(503, f.get().statusCode());
    }
    assertTrue(stat("cluster.budget.upstream_rq_retry_overflow") >= 3,
        "0% of 6 requests, at least 1: most retries overflow: " + stat("cluster.budget.upstream_rq_retry_overflow"));
    assertEquals(0, stat("cluster.plain.upstream_rq_retry_overflow"), "max_retries 100 leaves room for all");
    assertEquals(18, stat("cluster.plain.upstream_rq_retry"), "6 requests × 3 retries");
  }
}
