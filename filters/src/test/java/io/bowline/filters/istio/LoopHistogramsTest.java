package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Each thread records into cells of its own; a scrape sums them into one classic histogram per label set. */
class LoopHistogramsTest {
  private static final double[] BOUNDS = {1, 10, 100};

  @Test
  void threadsRecordApartAndTheScrapeSumsThem() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LoopHistograms h = LoopHistograms.of(registry);
    assertSame(h, LoopHistograms.of(registry), "one collector per registry: a second config generation reuses it");
    Labels a = Labels.of("reporter", "destination", "response_code", "200");
    Labels b = Labels.of("reporter", "destination", "response_code", "503");
    Thread[] loops = new Thread[2];
    for (int t = 0; t < loops.length; t++) {
      loops[t] = new Thread(() -> {
        LoopHistograms.Cells cells = h.series("istio_x", "help text", BOUNDS, a).cellsOfThisThread();
        assertSame(cells, h.series("istio_x", "help text", BOUNDS, a).cellsOfThisThread());
        for (int i = 0; i < 10_000; i++) {
          cells.record(i % 4 == 0 ? 0.5 : i % 4 == 1 ? 5 : i % 4 == 2 ? 100 : 1e6);
        }
      });
      loops[t].start();
    }
    for (Thread t : loops) {
      t.join();
    }
    h.series("istio_x", "help text", BOUNDS, b).cellsOfThisThread().record(3);

    String text = registry.scrape();
    assertTrue(text.contains("# TYPE istio_x histogram"), text);
    assertTrue(text.contains("# HELP istio_x help text"), text);
    String ok = "reporter=\"destination\",response_code=\"200\"";
    assertEquals(5_000, value(text, "istio_x_bucket{" + ok + ",le=\"1.0\"}"), text); // buckets are cumulative
    assertEquals(10_000, value(text, "istio_x_bucket{" + ok + ",le=\"10.0\"}"));
    assertEquals(15_000, value(text, "istio_x_bucket{" + ok + ",le=\"100.0\"}"), "100 is in le=100");
    assertEquals(20_000, value(text, "istio_x_bucket{" + ok + ",le=\"+Inf\"}"));
    assertEquals(20_000, value(text, "istio_x_count{" + ok + "}"));
    assertEquals(5_000 * (0.5 + 5 + 100 + 1e6), value(text, "istio_x_sum{" + ok + "}"), 1e-3);
    String failed = "reporter=\"destination\",response_code=\"503\"";
    assertEquals(0, value(text, "istio_x_bucket{" + failed + ",le=\"1.0\"}"));
    assertEquals(1, value(text, "istio_x_bucket{" + failed + ",le=\"10.0\"}"));
    assertEquals(1, value(text, "istio_x_count{" + failed + "}"));
  }

  private static double value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertTrue(m.find(), series + " in\n" + text);
    return Double.parseDouble(m.group(1));
  }
}
