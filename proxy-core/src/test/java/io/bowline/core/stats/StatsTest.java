package io.bowline.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StatsTest {
  private static final String[] CX_OPEN = {"cx_open"};
  @Test
  void oneCounterPerNameHoweverItIsAskedFor() {
    Stats stats = new Stats();
    Stats.Scope cluster = stats.scope("cluster.outbound|80||reviews.default.svc.cluster.local.");
    Counter viaScope = cluster.counter("upstream_rq_total");
    assertSame(viaScope, cluster.counter("upstream_rq_total"));
    assertSame(viaScope, stats.scope("cluster.outbound|80||reviews.default.svc.cluster.local.")
        .counter("upstream_rq_total"));
    assertSame(viaScope, stats.counter("cluster.outbound|80||reviews.default.svc.cluster.local.upstream_rq_total"));
    assertSame(stats.counter("cluster.a.b.upstream_rq_total"), stats.scope("cluster.a.").counter("b.upstream_rq_total"));
    viaScope.inc();
    viaScope.inc();
    cluster.counter("upstream_cx_total");
    List<Stats.Value> all = stats.counters();
    assertEquals(List.of(
        new Stats.Value("cluster.a.b.upstream_rq_total", 0, false),
        new Stats.Value("cluster.outbound|80||reviews.default.svc.cluster.local.upstream_cx_total", 0, false),
        new Stats.Value("cluster.outbound|80||reviews.default.svc.cluster.local.upstream_rq_total", 2, true)), all);
  }

  @Test
  void statsTheMatcherRejectsAreNullStatsAsInEnvoy() {
    Stats stats = new Stats();
    // Istio's bootstrap keeps a few prefixes: every other cluster stat is rejected
    stats.configure(new StatsConfig(List.of(), true,
        name -> name.startsWith("cluster.xds-grpc.") || name.startsWith("server.")));
    Stats.Scope svc = stats.scope("cluster.outbound|80||reviews.default.svc.cluster.local.");
    Counter rejected = svc.counter("upstream_rq_total");
    assertSame(Counter.NULL, rejected);
    assertSame(rejected, svc.counter("upstream_rq_total"));
    rejected.inc();
    rejected.add(5);
    assertEquals(0, rejected.value());
    Gauge active = svc.gauge("upstream_rq_active");
    assertSame(Gauge.NULL, active);
    active.inc();
    active.set(4);
    assertEquals(0, active.value());
    Histogram time = svc.histogram("upstream_rq_time");
    assertSame(Histogram.NULL, time);
    time.recordNanos(2_000_000);
    assertEquals(0, time.count());
    stats.computedGauge("cluster.outbound|80||reviews.default.svc.cluster.local.circuit_breakers.default.rq_open",
        () -> 1);
    svc.scope("circuit_breakers.default.").computedGauges(CX_OPEN, segment -> 1);

    Counter kept = stats.scope("cluster.xds-grpc.").counter("upstream_rq_total");
    stats.scope("cluster.xds-grpc.circuit_breakers.default.").computedGauges(CX_OPEN, segment -> 1);
    kept.inc();
    stats.scope("cluster.xds-grpc.").histogram("upstream_rq_time").recordNanos(2_000_000);
    stats.gauge("server.live").set(1);
    assertEquals(List.of(new Stats.Value("cluster.xds-grpc.upstream_rq_total", 1, true)), stats.counters());
    assertEquals(List.of(new Stats.Value("cluster.xds-grpc.circuit_breakers.default.cx_open", 1, true),
        new Stats.Value("server.live", 1, true)), stats.gauges());
    assertEquals(List.of("cluster.xds-grpc.upstream_rq_time"),
        stats.histograms().stream().map(Histogram::name).toList());
    assertEquals(1, stats.histograms().get(0).count());
  }

  @Test
  void gaugesAndComputedGaugesByScopeWithTheirWholeNames() {
    Stats stats = new Stats();
    Gauge active = stats.scope("cluster.svc.").gauge("upstream_cx_active");
    assertSame(active, stats.gauge("cluster.svc.upstream_cx_active"));
    active.set(3);
    stats.gauge("uptime_like").set(1); // a name without a dot has the empty prefix
    stats.computedGauge("cluster.svc.circuit_breakers.default.rq_open", () -> 0);
    stats.computedGauge("cluster.svc.circuit_breakers.default.rq_open", () -> 1); // a rebuilt breaker replaces it
    // one source for several gauges (a circuit breaker's): asked for each by its name when rendered
    stats.scope("cluster.svc.circuit_breakers.default.").computedGauges(new String[] {"cx_open", "rq_pending_open"},
        segment -> segment.equals("cx_open") ? 2 : 7);
    assertEquals(List.of(
        new Stats.Value("cluster.svc.circuit_breakers.default.cx_open", 2, true),
        new Stats.Value("cluster.svc.circuit_breakers.default.rq_open", 1, true),
        new Stats.Value("cluster.svc.circuit_breakers.default.rq_pending_open", 7, true),
        new Stats.Value("cluster.svc.upstream_cx_active", 3, true),
        new Stats.Value("uptime_like", 1, true)), stats.gauges());
  }

  /** A cluster's traffic histograms are listed empty until made, then the made one alone. */
  @Test
  void deferredHistogramsAreShownEmptyUntilMade() {
    Stats stats = new Stats();
    String[] names = {"upstream_rq_time", "upstream_cx_connect_ms"};
    stats.scope("cluster.a.").deferHistograms(names);
    stats.scope("cluster.b.").deferHistograms(names);
    assertEquals(List.of("cluster.a.upstream_cx_connect_ms", "cluster.a.upstream_rq_time",
        "cluster.b.upstream_cx_connect_ms", "cluster.b.upstream_rq_time"),
        stats.histograms().stream().map(Histogram::name).toList());
    assertEquals(0, stats.histograms().get(1).count());
    stats.scope("cluster.a.").histogram("upstream_rq_time").recordNanos(3_000_000);
    List<Histogram> now = stats.histograms();
    assertEquals(4, now.size(), "the made one replaces the empty one");
    assertEquals(1, now.get(1).count());
    assertSame(now.get(1), stats.scope("cluster.a.").histogram("upstream_rq_time"));
  }

  @Test
  void threadsAskingForTheSameNewNamesAllGetTheSameCounters() throws Exception {
    Stats stats = new Stats();
    int threads = 4;
    int names = 200;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Counter[]>> results = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(pool.submit(() -> {
          go.await();
          Stats.Scope scope = stats.scope("http.ingress.");
          Counter[] got = new Counter[names];
          for (int i = 0; i < names; i++) {
            got[i] = scope.counter("downstream_rq_" + i);
            got[i].inc();
          }
          return got;
        }));
      }
      go.countDown();
      Counter[] first = results.get(0).get(10, TimeUnit.SECONDS);
      for (Future<Counter[]> f : results) {
        Counter[] got = f.get(10, TimeUnit.SECONDS);
        for (int i = 0; i < names; i++) {
          assertSame(first[i], got[i], "downstream_rq_" + i);
        }
      }
      List<Stats.Value> all = stats.counters();
      assertEquals(names, all.size());
      all.forEach(v -> assertEquals(threads, v.value(), v.name()));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void deferredStatsShowAsZerosUntilFirstLookedUpThenCountAsMadeOnes() {
    Stats stats = new Stats();
    stats.configure(new StatsConfig(List.of(), true, name -> !name.endsWith("upstream_rq_retry")));
    Stats.Scope svc = stats.scope("cluster.svc.");
    Counter early = svc.counter("update_attempt"); // made before the deferral: kept as it is
    early.inc();
    svc.deferCounters(new String[] {"upstream_rq_total", "upstream_rq_retry", "update_attempt"}, 2);
    svc.deferGauges(new String[] {"upstream_rq_active"});
    svc.deferCounters(new String[] {"upstream_rq_total"}, 0); // a replaced cluster defers the same names again
    assertEquals(List.of(new Stats.Value("cluster.svc.update_attempt", 1, true),
        new Stats.Value("cluster.svc.upstream_rq_total", 0, false)), stats.counters());
    assertEquals(List.of(new Stats.Value("cluster.svc.upstream_rq_active", 0, false)), stats.gauges());

    Counter total = svc.counter("upstream_rq_total"); // the first lookup makes it, in place of the zero
    total.inc();
    assertSame(total, stats.counter("cluster.svc.upstream_rq_total"));
    assertSame(early, svc.counter("update_attempt"));
    assertSame(Counter.NULL, svc.counter("upstream_rq_retry")); // still the matcher's
    svc.deferCounters(new String[] {"upstream_rq_total"}, 0); // deferring a made stat leaves it alone
    assertSame(total, svc.counter("upstream_rq_total"));
    svc.gauge("upstream_rq_active").set(2);
    assertEquals(List.of(new Stats.Value("cluster.svc.update_attempt", 1, true),
        new Stats.Value("cluster.svc.upstream_rq_total", 1, true)), stats.counters());
    assertEquals(List.of(new Stats.Value("cluster.svc.upstream_rq_active", 2, true)), stats.gauges());
  }

  @Test
  void aHistogramWithoutSamplesReadsEmptyAndCountsFromItsFirst() {
    Histogram h = new Stats().histogram("cluster.svc.upstream_rq_time");
    assertEquals(0, h.count());
    assertEquals(0.0, h.sumMillis());
    assertEquals(Histogram.BOUNDS.length + 1, h.cumulative().length);
    assertEquals(0, h.cumulative()[Histogram.BOUNDS.length]);
    h.recordNanos(3_000_000); // 3 ms: the 5 ms bucket
    h.recordNanos(400_000); // 0.4 ms: the first
    assertEquals(2, h.count());
    assertEquals(3.4, h.sumMillis(), 1e-9);
    long[] cum = h.cumulative();
    assertEquals(1, cum[0]);
    assertEquals(1, cum[1]);
    assertEquals(2, cum[2]);
    assertEquals(2, cum[Histogram.BOUNDS.length]);
  }
}
