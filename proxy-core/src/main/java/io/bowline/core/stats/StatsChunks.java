package io.bowline.core.stats;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's admin {@code /stats}, as text ({@code name: value}, histograms as quantiles) or as JSON
 * ({@code {"stats":[{"name":…,"value":…},…,{"histograms":{"supported_quantiles":[…],"computed_quantiles":[…]}}]}}),
 * made a chunk at a time as the admin connection takes them: counters and
 * gauges together in name order, then the histograms. A mesh-sized store holds ~400,000 stats (10,000 clusters):
 * rendered whole — each stat's full name and value as an object, then 25 MB of text (47 MB of JSON) — it stalled
 * requests 150–250 ms, in collections of what the render had promoted. Here the selected stats are an index of
 * references (scope prefix, name, value holder) and a sort order, and a line's name and value are made as it is
 * written, as {@link PrometheusChunks} does for {@code /stats/prometheus}.
 */
public final class StatsChunks extends TextChunks {
  private static final double[] QUANTILES = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};
  private static final String[] LABELS = {"P0", "P25", "P50", "P75", "P90", "P95", "P99", "P99.5", "P99.9", "P100"};
  private static final String SUPPORTED_QUANTILES = "[0,25,50,75,90,95,99,99.5,99.9,100]";

  private final boolean json;
  /** Per selected stat: its scope prefix, its last segment, and its Counter, Gauge or computed gauge's source. */
  private Object[] refs = new Object[3 * 256];
  private int count;
  private final int[] order;
  private final List<Histogram> histograms;
  private int next;
  private int nextHistogram;
  private boolean started;

  /**
   * @param filter keep only stats whose name it finds (Envoy's {@code ?filter=}); null: all
   * @param usedOnly keep only stats that have counted something ({@code ?usedonly})
   * @param json the JSON form ({@code ?format=json}) instead of text
   */
  public StatsChunks(Stats stats, @Nullable Pattern filter, boolean usedOnly, boolean json) {
    this(stats, filter, usedOnly, json, Kinds.ALL);
  }

  /** @param kinds the kinds of stat shown (Envoy's {@code ?type=}) */
  public StatsChunks(Stats stats, @Nullable Pattern filter, boolean usedOnly, boolean json, Kinds kinds) {
    this.json = json;
    StatsConfig config = stats.config();
    stats.forEachShown((counter, prefix, segment, holder, used) -> {
      if (counter ? kinds.counters() : kinds.gauges()) {
        select(prefix, segment, holder, used, config, filter, usedOnly);
      }
    });
    this.order = sortedByName();
    List<Histogram> hs = kinds.histograms() ? stats.histograms() : List.of();
    if (!hs.isEmpty()) {
      hs = new java.util.ArrayList<>(hs);
      hs.removeIf(h -> filter != null && !filter.matcher(h.name()).find() || usedOnly && h.count() == 0
          || !config.included(h.name()));
    }
    this.histograms = hs;
  }

  /** Which kinds of stat a page shows: Envoy's {@code ?type=} (All, Counters, Gauges, Histograms, TextReadouts). */
  public record Kinds(boolean counters, boolean gauges, boolean histograms) {
    public static final Kinds ALL = new Kinds(true, true, true);

    /** The kinds {@code ?type=} names; null for a name Envoy does not know. */
    public static @Nullable Kinds of(@Nullable String type) {
      if (type == null) {
        return ALL;
      }
      return switch (type) {
        case "All" -> ALL;
        case "Counters" -> new Kinds(true, false, false);
        case "Gauges" -> new Kinds(false, true, false);
        case "Histograms" -> new Kinds(false, false, true);
        case "TextReadouts" -> new Kinds(false, false, false); // bowline keeps none
        default -> null;
      };
    }
  }

  private void select(String prefix, String segment, Object holder, boolean used, StatsConfig config,
      @Nullable Pattern filter, boolean usedOnly) {
    if (usedOnly && !used) {
      return;
    }
    if (filter != null || !config.includesAll()) {
      String name = prefix + segment; // garbage at once: the index keeps the two parts the store already holds
      if (filter != null && !filter.matcher(name).find() || !config.included(name)) {
        return;
      }
    }
    if (3 * count + 3 > refs.length) {
      refs = Arrays.copyOf(refs, refs.length * 2);
    }
    refs[3 * count] = prefix;
    refs[3 * count + 1] = segment;
    refs[3 * count + 2] = holder;
    count++;
  }

  /** The selected stats' positions in the order of their full names, compared without making them. */
  private int[] sortedByName() {
    int[] a = new int[count];
    for (int i = 0; i < count; i++) {
      a[i] = i;
    }
    int[] scratch = new int[count];
    mergeSort(a, scratch, 0, count);
    return a;
  }

  private void mergeSort(int[] a, int[] scratch, int from, int to) {
    if (to - from < 16) {
      for (int i = from + 1; i < to; i++) {
        int v = a[i];
        int j = i - 1;
        for (; j >= from && compare(a[j], v) > 0; j--) {
          a[j + 1] = a[j];
        }
        a[j + 1] = v;
      }
      return;
    }
    int mid = (from + to) >>> 1;
    mergeSort(a, scratch, from, mid);
    mergeSort(a, scratch, mid, to);
    if (compare(a[mid - 1], a[mid]) <= 0) {
      return; // already in order: a scope's stats usually are
    }
    System.arraycopy(a, from, scratch, from, to - from);
    for (int i = from, l = from, r = mid; i < to; i++) {
      a[i] = r >= to || l < mid && compare(scratch[l], scratch[r]) <= 0 ? scratch[l++] : scratch[r++];
    }
  }

  /** Compares two stats' full names, prefix then segment, as if each were one string. */
  private int compare(int x, int y) {
    String px = (String) refs[3 * x];
    String sx = (String) refs[3 * x + 1];
    String py = (String) refs[3 * y];
    String sy = (String) refs[3 * y + 1];
    if (px == py) { // the store shares one instance per prefix
      return sx.compareTo(sy);
    }
    int lx = px.length() + sx.length();
    int ly = py.length() + sy.length();
    for (int i = 0, n = Math.min(lx, ly); i < n; i++) {
      char cx = i < px.length() ? px.charAt(i) : sx.charAt(i - px.length());
      char cy = i < py.length() ? py.charAt(i) : sy.charAt(i - py.length());
      if (cx != cy) {
        return cx - cy;
      }
    }
    return lx - ly;
  }

  /** The whole output as one string: for tests and small stores (the admin endpoint streams it). */
  public static String render(Stats stats, @Nullable Pattern filter, boolean usedOnly, boolean json) {
    return new StatsChunks(stats, filter, usedOnly, json).drain();
  }

  @Override
  boolean fill(StringBuilder sb) {
    if (!started) {
      started = true;
      if (json) {
        sb.append("{\"stats\":[");
      }
    }
    while (sb.length() < CHUNK) {
      if (next < count) {
        int i = order[next++];
        String prefix = (String) refs[3 * i];
        String segment = (String) refs[3 * i + 1];
        long value = Stats.valueOf(refs[3 * i + 2], segment);
        if (json) {
          sb.append(next == 1 ? "\n" : ",\n").append("{\"name\":\"");
          jsonString(sb, prefix);
          jsonString(sb, segment);
          sb.append("\",\"value\":").append(value).append('}');
        } else {
          sb.append(prefix).append(segment).append(": ").append(value).append('\n');
        }
      } else if (nextHistogram < histograms.size()) {
        Histogram h = histograms.get(nextHistogram++);
        if (!json) {
          histogram(sb, h);
        } else {
          if (nextHistogram == 1) { // Envoy's one element for all histograms, after the counters and gauges
            sb.append(count == 0 ? "\n" : ",\n").append("{\"histograms\":{\"supported_quantiles\":")
                .append(SUPPORTED_QUANTILES).append(",\"computed_quantiles\":[");
          }
          jsonHistogram(sb, h, nextHistogram == 1);
        }
      } else {
        if (json) {
          sb.append(histograms.isEmpty() ? "\n]}\n" : "]}}\n]}\n");
        }
        return true;
      }
    }
    return false;
  }

  private static void histogram(StringBuilder sb, Histogram h) {
    sb.append(h.name()).append(": ");
    if (h.count() == 0) {
      sb.append("No recorded values\n");
      return;
    }
    for (int i = 0; i < QUANTILES.length; i++) {
      sb.append(i == 0 ? "" : " ").append(LABELS[i]).append("(nan,")
          .append(String.format(Locale.ROOT, "%.1f", h.quantile(QUANTILES[i]))).append(')');
    }
    sb.append('\n');
  }

  /**
   * One histogram in Envoy's JSON: its name and a value per supported quantile, {@code interval} null (bowline keeps
   * no interval histograms, as its text's {@code nan} says) and {@code cumulative} null while it has no samples.
   */
  private static void jsonHistogram(StringBuilder sb, Histogram h, boolean first) {
    sb.append(first ? "\n" : ",\n").append("{\"name\":\"");
    jsonString(sb, h.name());
    sb.append("\",\"values\":[");
    boolean none = h.count() == 0;
    for (int i = 0; i < QUANTILES.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"interval\":null,\"cumulative\":");
      if (none) {
        sb.append("null");
      } else {
        sb.append(String.format(Locale.ROOT, "%.1f", h.quantile(QUANTILES[i])));
      }
      sb.append('}');
    }
    sb.append("]}");
  }

  /** A stat name inside a JSON string: names come from config (cluster and listener names), so quote what JSON must. */
  private static void jsonString(StringBuilder sb, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
  }
}
