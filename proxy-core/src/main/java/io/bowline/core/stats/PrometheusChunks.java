package io.bowline.core.stats;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The stats as Prometheus text, made a chunk at a time as the admin connection takes them. A mesh-sized config
 * has ~400,000 stats (10,000 clusters): rendered whole, their tag maps, sorted tables and the text — over a hundred
 * megabytes — stayed alive long enough to be promoted, and the serial collector's full collections then stalled the
 * workers ~120–190 ms per scrape. Here only an index stays for the scrape — each stat's scope prefix, name and value
 * holder, grouped by Prometheus family, three references a stat — and a line's tags and text are made as it is written.
 */
public final class PrometheusChunks extends TextChunks {

  /** A Prometheus family and its stats: prefix, segment and value holder per stat (a histogram: null, name, it). */
  private static final class Family {
    final String type;
    final List<Object> entries = new ArrayList<>();

    Family(String type) {
      this.type = type;
    }
  }

  private final Stats stats;
  private final Iterator<Map.Entry<String, Family>> families;
  private final String trailer;
  private Map.@Nullable Entry<String, Family> family;
  private int at;

  /**
   * @param filter keep only stats whose name it finds (Envoy's {@code ?filter=}); null: all
   * @param usedOnly keep only stats that have counted something ({@code ?usedonly})
   * @param trailer text written after the stats (the mesh metrics)
   */
  public PrometheusChunks(Stats stats, @Nullable Pattern filter, boolean usedOnly, String trailer) {
    this(stats, filter, usedOnly, trailer, StatsChunks.Kinds.ALL);
  }

  /** @param kinds the kinds of stat shown (Envoy's {@code ?type=}) */
  public PrometheusChunks(Stats stats, @Nullable Pattern filter, boolean usedOnly, String trailer,
      StatsChunks.Kinds kinds) {
    this.stats = stats;
    this.trailer = trailer;
    Map<String, Family> index = new TreeMap<>();
    stats.forEachShown((counter, prefix, segment, holder, used) -> {
      if (counter ? kinds.counters() : kinds.gauges()) {
        add(index, counter ? "counter" : "gauge", prefix, segment, holder, used, filter, usedOnly);
      }
    });
    if (kinds.histograms()) {
      for (Histogram h : stats.histograms()) {
        add(index, "histogram", null, h.name(), h, h.count() > 0, filter, usedOnly);
      }
    }
    this.families = index.entrySet().iterator();
  }

  private void add(Map<String, Family> index, String type, @Nullable String prefix, String segment, Object value,
      boolean used, @Nullable Pattern filter, boolean usedOnly) {
    String name = prefix == null ? segment : prefix + segment;
    if (!stats.config().included(name) || filter != null && !filter.matcher(name).find() || usedOnly && !used) {
      return;
    }
    Family f = index.computeIfAbsent(StatsPrometheus.tag(stats, name).name(), k -> new Family(type));
    f.entries.add(prefix);
    f.entries.add(segment);
    f.entries.add(value);
  }

  @Override
  boolean fill(StringBuilder sb) {
    while (sb.length() < CHUNK) {
      if (family == null || at >= family.getValue().entries.size()) {
        if (!families.hasNext()) {
          sb.append(trailer);
          return true;
        }
        family = families.next();
        at = 0;
        sb.append("# TYPE ").append(family.getKey()).append(' ').append(family.getValue().type).append('\n');
      }
      List<Object> e = family.getValue().entries;
      String prefix = (String) e.get(at);
      String segment = (String) e.get(at + 1);
      Object value = e.get(at + 2);
      at += 3;
      String name = prefix == null ? segment : prefix + segment;
      StatsPrometheus.line(sb, family.getKey(), StatsPrometheus.tag(stats, name).tags(), segment, value);
    }
    return false;
  }
}
