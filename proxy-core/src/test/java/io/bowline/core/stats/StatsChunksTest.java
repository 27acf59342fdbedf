package io.bowline.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Envoy's /stats text and JSON, made a chunk at a time from an index of the selected stats. */
class StatsChunksTest {
  /** Names whose order differs from the order of their scope prefixes: the full name decides. */
  private static Stats mixed() {
    Stats s = new Stats();
    s.scope("cluster.a.").counter("x").inc();
    s.scope("cluster.a.b.").counter("y");
    s.scope("cluster.a.").gauge("upstream_cx_active").set(3);
    s.computedGauge("cluster.a.b.membership_total", () -> 7);
    s.counter("server.z").add(2);
    s.gauge("listener_manager.total_listeners_active").set(1);
    return s;
  }

  @Test
  void countersAndGaugesTogetherInNameOrder() {
    String out = StatsChunks.render(mixed(), null, false, false);
    assertEquals(List.of("cluster.a.b.membership_total: 7", "cluster.a.b.y: 0", "cluster.a.upstream_cx_active: 3",
        "cluster.a.x: 1", "listener_manager.total_listeners_active: 1", "server.z: 2"), out.lines().toList());
  }

  @Test
  void filterAndUsedOnlySelectBeforeListing() {
    Stats s = mixed();
    assertEquals(List.of("cluster.a.b.membership_total: 7", "cluster.a.b.y: 0"),
        StatsChunks.render(s, Pattern.compile("^cluster\\.a\\.b\\."), false, false).lines().toList());
    assertEquals(List.of("cluster.a.b.membership_total: 7", "cluster.a.upstream_cx_active: 3", "cluster.a.x: 1",
        "listener_manager.total_listeners_active: 1", "server.z: 2"),
        StatsChunks.render(s, null, true, false).lines().toList());
  }

  @Test
  void jsonIsEnvoysShapeAndValidAcrossChunks() {
    Stats s = new Stats();
    List<String> expected = new ArrayList<>();
    for (int c = 0; c < 2000; c++) {
      String cluster = "outbound|80||svc-" + c + ".ns.svc.cluster.local";
      Stats.Scope scope = s.clusterScope(cluster);
      for (int i = 0; i < 5; i++) {
        scope.counter("stat_" + i).add(c);
        expected.add("cluster." + cluster + ".stat_" + i);
      }
    }
    s.counter("listener.\"quoted\\name\".x").inc(); // names come from config: JSON must quote what it has to
    expected.add("listener.\"quoted\\name\".x");
    java.util.Collections.sort(expected);
    String out = StatsChunks.render(s, null, false, true);
    assertTrue(out.length() > 4 * 64 * 1024, "several chunks: " + out.length());
    JsonArray stats = JsonParser.parseString(out).getAsJsonObject().getAsJsonArray("stats");
    List<String> names = new ArrayList<>();
    for (var e : stats) {
      JsonObject o = e.getAsJsonObject();
      names.add(o.get("name").getAsString());
      if (o.get("name").getAsString().equals("cluster.outbound|80||svc-1999.ns.svc.cluster.local.stat_4")) {
        assertEquals(1999, o.get("value").getAsLong());
      }
    }
    assertEquals(expected, names);
    assertEquals("{\"stats\":[\n]}", StatsChunks.render(s, Pattern.compile("nothing"), false, true).trim());
  }

  @Test
  void histogramsFollowAsQuantiles() {
    Stats s = new Stats();
    s.counter("cluster.a.upstream_rq_total").inc();
    s.histogram("cluster.a.upstream_rq_time").recordNanos(5_000_000);
    s.histogram("cluster.b.upstream_rq_time");
    List<String> lines = StatsChunks.render(s, null, false, false).lines().toList();
    assertEquals("cluster.a.upstream_rq_total: 1", lines.get(0));
    assertTrue(lines.get(1).startsWith("cluster.a.upstream_rq_time: P0(nan,"), lines.get(1));
    assertEquals("cluster.b.upstream_rq_time: No recorded values", lines.get(2));
    assertEquals(2, StatsChunks.render(s, null, true, false).lines().count(), "usedonly leaves the empty one out");
  }

  @Test
  void jsonHistogramsAreEnvoysOneElementAfterTheStats() {
    Stats s = new Stats();
    s.counter("cluster.a.upstream_rq_total").inc();
    s.histogram("cluster.a.upstream_rq_time").recordNanos(5_000_000);
    s.histogram("cluster.b.upstream_rq_time");
    JsonArray stats = JsonParser.parseString(StatsChunks.render(s, null, false, true)).getAsJsonObject()
        .getAsJsonArray("stats");
    assertEquals(2, stats.size());
    assertEquals("cluster.a.upstream_rq_total", stats.get(0).getAsJsonObject().get("name").getAsString());
    JsonObject h = stats.get(1).getAsJsonObject().getAsJsonObject("histograms");
    assertEquals("[0,25,50,75,90,95,99,99.5,99.9,100]", h.get("supported_quantiles").toString());
    JsonArray computed = h.getAsJsonArray("computed_quantiles");
    assertEquals("cluster.a.upstream_rq_time", computed.get(0).getAsJsonObject().get("name").getAsString());
    JsonObject p50 = computed.get(0).getAsJsonObject().getAsJsonArray("values").get(2).getAsJsonObject();
    assertTrue(p50.get("interval").isJsonNull());
    assertTrue(p50.get("cumulative").getAsDouble() > 0, p50.toString());
    assertEquals(10, computed.get(1).getAsJsonObject().getAsJsonArray("values").size());
    assertTrue(computed.get(1).getAsJsonObject().getAsJsonArray("values").get(0).getAsJsonObject().get("cumulative")
        .isJsonNull(), "no samples yet");
    // only histograms: the element alone; usedonly leaves the empty one out
    JsonArray onlyUsed = JsonParser.parseString(StatsChunks.render(s, Pattern.compile("rq_time"), true, true))
        .getAsJsonObject().getAsJsonArray("stats");
    assertEquals(1, onlyUsed.size());
    assertEquals(1, onlyUsed.get(0).getAsJsonObject().getAsJsonObject("histograms")
        .getAsJsonArray("computed_quantiles").size());
  }
}
