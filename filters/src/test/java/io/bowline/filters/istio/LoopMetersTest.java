package io.bowline.filters.istio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Each thread records into cells of its own; a scrape sums them into one counter or histogram per label set. */
class LoopMetersTest {
  private static final double[] BOUNDS = {1, 10, 100};
  private static final Labels OK = Labels.of("reporter", "destination", "response_code", "200");
  private static final Labels FAILED = Labels.of("reporter", "destination", "response_code", "503");

  @Test
  void threadsRecordHistogramsApartAndTheScrapeSumsThem() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LoopMeters m = LoopMeters.of(registry);
    assertSame(m, LoopMeters.of(registry), "one collector per registry: a second config generation reuses it");
    onTwoThreads(() -> {
      LoopMeters.HistogramCells cells = m.histogram("istio_x", "help text", BOUNDS, OK);
      assertSame(cells, m.histogram("istio_x", "help text", BOUNDS, OK));
      for (int i = 0; i < 10_000; i++) {
        cells.record(i % 4 == 0 ? 0.5 : i % 4 == 1 ? 5 : i % 4 == 2 ? 100 : 1e6);
      }
    });
    m.histogram("istio_x", "help text", BOUNDS, FAILED).record(3);

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

  @Test
  void threadsCountApartAndTheScrapeSumsThemAsMicrometerWroteCounters() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LoopMeters m = LoopMeters.of(registry);
    AtomicReference<LoopMeters.CounterCells> first = new AtomicReference<>();
    onTwoThreads(() -> {
      LoopMeters.CounterCells cells = m.counter("istio_y_total", "help text", OK);
      assertSame(cells, m.counter("istio_y_total", "help text", OK), "a thread's cells are found again");
      if (!first.compareAndSet(null, cells)) {
        assertNotSame(first.get(), cells, "each thread has cells of its own");
      }
      for (int i = 0; i < 10_000; i++) {
        cells.increment();
      }
      cells.increment(5);
    });
    m.counter("istio_y_total", "help text", FAILED).increment();

    String text = registry.scrape();
    assertTrue(text.contains("# TYPE istio_y_total counter"), text);
    assertTrue(text.contains("# HELP istio_y_total help text"), text);
    assertEquals(20_010, value(text, "istio_y_total{reporter=\"destination\",response_code=\"200\"}"), text);
    assertEquals(1, value(text, "istio_y_total{reporter=\"destination\",response_code=\"503\"}"));

    // Micrometer's own counter of the same kind reads the same, so swapping one for the other changed no dashboard
    io.micrometer.core.instrument.Counter.builder("istio_z_total").description("help text")
        .tags("reporter", "destination", "response_code", "200").register(registry).increment(3);
    text = registry.scrape();
    assertTrue(text.contains("# TYPE istio_z_total counter"), text);
    assertTrue(text.contains("istio_z_total{reporter=\"destination\",response_code=\"200\"} 3.0\n"), text);
    assertTrue(text.contains("istio_y_total{reporter=\"destination\",response_code=\"503\"} 1.0\n"), text);
  }

  private static void onTwoThreads(Runnable work) throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread[] loops = new Thread[2];
    for (int t = 0; t < loops.length; t++) {
      loops[t] = new Thread(() -> {
        try {
          work.run();
        } catch (Throwable e) {
          failure.set(e);
        }
      });
      loops[t].start();
    }
    for (Thread t : loops) {
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
  }

  private static double value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertTrue(m.find(), series + " in\n" + text);
    return Double.parseDouble(m.group(1));
  }
}
