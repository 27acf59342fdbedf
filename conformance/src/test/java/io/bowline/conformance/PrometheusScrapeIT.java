package io.bowline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.bowline.core.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) scrapes bin/bowline's /stats/prometheus while
 * traffic flows through an inbound sidecar; the dashboards' queries, asked through Prometheus's HTTP API, return
 * sensible values with Istio's labels, and {@code promtool check metrics} parses the exposition. Without the
 * prometheus binary the test is skipped, unless BOWLINE_REQUIRE_PROMETHEUS is set (.ci/run installs it and sets it).
 */
class PrometheusScrapeIT {
  @TempDir
  Path dir;

  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void prometheusQueriesIstioMetricsScrapedFromBowline() throws Exception {
    String prometheus = binary("prometheus");
    String promtool = binary("promtool");
    try (TestBackend backend = TestBackend.start();
        BowlineProcess p = BowlineProcess.start(dir, "-c", bootstrap(backend.port()).toString())) {
      p.awaitReady();
      int web = freePort();
      Files.writeString(dir.resolve("prometheus.yml"), """
          global: {scrape_interval: 1s, evaluation_interval: 1s}
          scrape_configs:
          - job_name: bowline
            metrics_path: /stats/prometheus
            static_configs: [{targets: ["%s"]}]
          """.formatted(p.adminAddress()));
      Process prom = new ProcessBuilder(prometheus, "--config.file=" + dir.resolve("prometheus.yml"),
          "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + web,
          "--log.level=warn").redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile())
          .start();
      try {
        String api = "http://127.0.0.1:" + web;
        awaitReady(api, prom);
        int port = p.listenerPort("virtualInbound");
        String caller = peerMetadata();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        int sent = 0;
        int ok = 0;
        while (System.nanoTime() < end) {
          HttpResponse<Void> r = request(port, caller, sent);
          assertEquals(sent % 10 == 9 ? 503 : 200, r.statusCode());
          ok += r.statusCode() == 200 ? 1 : 0;
          sent++;
        }
        awaitValue(api, "sum(istio_requests_total{response_code=\"200\"})", ok);
        awaitValue(api, "sum(istio_requests_total{response_code=\"503\"})", sent - ok);
        // a rate needs two scrapes that saw the counter grow: on a busy machine the scrapes during the first burst
        // may all have come late, so the same traffic goes on while the rates are read
        java.util.concurrent.atomic.AtomicBoolean more = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread traffic = new Thread(() -> {
          for (int i = 0; more.get(); i++) {
            try {
              request(port, caller, i);
            } catch (Exception e) {
              return;
            }
          }
        });
        traffic.start();
        double rate;
        double errors;
        double p50;
        try {
          // both rates from one query, so both are worked out from the same scrapes at the same instant: read one
          // after the other, each extrapolates over a different pair of scrapes and they need not keep the mix
          double[] byCode = awaitRates(api);
          rate = byCode[0];
          errors = byCode[1];
          p50 = awaitPositive(api, "histogram_quantile(0.5, sum(rate("
              + "istio_request_duration_milliseconds_bucket{reporter=\"destination\",response_code=\"200\"}[1m])) by (le))");
        } finally {
          more.set(false);
          traffic.join(15_000);
        }
        assertTrue(rate > 0 && rate < 1000, "requests per second of 200s: " + rate);
        assertTrue(errors < rate, "503s are a tenth of the traffic: " + errors + " vs " + rate);
        assertTrue(p50 >= 1 && p50 <= 250, "p50 of /delay/5 in ms: " + p50);
        JsonArray series = query(api, "istio_requests_total{response_code=\"200\"}");
        assertEquals(1, series.size(), series.toString());
        JsonObject labels = series.get(0).getAsJsonObject().getAsJsonObject("metric");
        assertEquals("destination", labels.get("reporter").getAsString());
        assertEquals("productpage-v1", labels.get("source_workload").getAsString());
        assertEquals("productpage", labels.get("source_canonical_service").getAsString());
        assertEquals("reviews-v1", labels.get("destination_workload").getAsString());
        assertEquals("reviews", labels.get("destination_canonical_service").getAsString());
        assertEquals("v1", labels.get("destination_canonical_revision").getAsString());
        assertEquals("http", labels.get("request_protocol").getAsString());
        assertEquals("none", labels.get("connection_security_policy").getAsString());
        assertEquals("bowline", labels.get("job").getAsString());

        Path scraped = dir.resolve("scrape.txt");
        Files.writeString(scraped, p.get("/stats/prometheus").body());
        Process check = new ProcessBuilder("sh", "-c", promtool + " check metrics < " + scraped)
            .redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(30, TimeUnit.SECONDS));
        assertFalse(out.contains("error while linting") || out.contains("parsing error"), out);
        // promtool's advice on Envoy's names (no help text, no _total) is expected, as it is for Envoy; Istio's
        // metrics carry help text, and their one advice is about Istio's own choice of milliseconds
        List<String> istioAdvice = out.lines().filter(l -> l.contains("istio_") && !l.contains("base unit")).toList();
        assertTrue(istioAdvice.isEmpty(), String.join("\n", istioAdvice));
      } finally {
        prom.destroy();
        if (!prom.waitFor(10, TimeUnit.SECONDS)) {
          prom.destroyForcibly();
        }
      }
    }
  }

  /** The {@code n}th request of the test's traffic: every tenth answered 503 by the backend, the others 200. */
  private static HttpResponse<Void> request(int port, String caller, int n) throws Exception {
    String path = n % 10 == 9 ? "/status/503" : "/delay/5";
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("x-envoy-peer-metadata", caller).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.discarding());
  }

  private Path bootstrap(int backendPort) throws IOException {
    String text;
    try (InputStream in = getClass().getResourceAsStream("/bootstraps/istio-inbound.yaml")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path f = dir.resolve("istio-inbound.yaml");
    Files.writeString(f, text.replace("${BACKEND}", Integer.toString(backendPort)));
    return f;
  }

  private static String binary(String name) {
    for (String d : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
      if (Files.isExecutable(Path.of(d, name))) {
        return Path.of(d, name).toString();
      }
    }
    String required = System.getenv("BOWLINE_REQUIRE_PROMETHEUS");
    if (required != null && !required.isEmpty()) {
      throw new AssertionError(name + " is not installed (apt-get install prometheus); .ci/run installs it");
    }
    Assumptions.abort(name + " is not installed (apt-get install prometheus)");
    return name;
  }

  private static String peerMetadata() {
    Struct labels = Struct.newBuilder().putFields("app", str("productpage")).putFields("version", str("v1")).build();
    Struct md = Struct.newBuilder().putFields("WORKLOAD_NAME", str("productpage-v1"))
        .putFields("NAMESPACE", str("default")).putFields("CLUSTER_ID", str("Kubernetes"))
        .putFields("LABELS", Value.newBuilder().setStructValue(labels).build()).build();
    return Base64.getEncoder().encodeToString(md.toByteArray());
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void awaitReady(String api, Process prom) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!prom.isAlive()) {
        throw new AssertionError("prometheus exited with " + prom.exitValue());
      }
      try {
        if (CLIENT.send(HttpRequest.newBuilder(URI.create(api + "/-/ready")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("prometheus not ready in 30 s");
  }

  private static JsonArray query(String api, String promql) throws Exception {
    HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
    assertEquals("success", body.get("status").getAsString(), r.body());
    return body.getAsJsonObject("data").getAsJsonArray("result");
  }

  /** Polls until the instant query's one value is {@code expected}: every request was scraped. */
  private static void awaitValue(String api, String promql, double expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = "";
    while (System.nanoTime() < deadline) {
      JsonArray result = query(api, promql);
      last = result.toString();
      if (result.size() == 1 && Double.parseDouble(result.get(0).getAsJsonObject().getAsJsonArray("value").get(1)
          .getAsString()) == expected) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError(promql + " never reached " + expected + "; last result " + last);
  }

  /** Polls until the 200s' and the 503s' request rates are both positive and finite, from one instant query. */
  private static double[] awaitRates(String api) throws Exception {
    String promql = "sum by (response_code) (rate(istio_requests_total{response_code=~\"200|503\"}[1m]))";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = "";
    while (System.nanoTime() < deadline) {
      JsonArray result = query(api, promql);
      last = result.toString();
      double ok = 0;
      double failed = 0;
      for (int i = 0; i < result.size(); i++) {
        JsonObject series = result.get(i).getAsJsonObject();
        double v = Double.parseDouble(series.getAsJsonArray("value").get(1).getAsString());
        if ("200".equals(series.getAsJsonObject("metric").get("response_code").getAsString())) {
          ok = v;
        } else {
          failed = v;
        }
      }
      if (ok > 0 && failed > 0 && Double.isFinite(ok) && Double.isFinite(failed)) {
        return new double[] {ok, failed};
      }
      Thread.sleep(500);
    }
    throw new AssertionError(promql + " never gave both rates; last result " + last);
  }

  /** Polls until the instant query has a positive, finite value (scrapes arrive every second). */
  private static double awaitPositive(String api, String promql) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = "";
    while (System.nanoTime() < deadline) {
      JsonArray result = query(api, promql);
      last = result.toString();
      if (result.size() == 1) {
        double v = Double.parseDouble(result.get(0).getAsJsonObject().getAsJsonArray("value").get(1).getAsString());
        if (v > 0 && Double.isFinite(v)) {
          return v;
        }
      }
      Thread.sleep(500);
    }
    throw new AssertionError(promql + " never became positive; last result " + last);
  }
}
