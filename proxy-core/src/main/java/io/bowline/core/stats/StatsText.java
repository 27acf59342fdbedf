package io.bowline.core.stats;

import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Envoy's admin {@code /stats} text: {@code name: value}, histograms as quantiles. */
public final class StatsText {
  private static final double[] QUANTILES = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};
  private static final String[] LABELS = {"P0", "P25", "P50", "P75", "P90", "P95", "P99", "P99.5", "P99.9", "P100"};

  private StatsText() {}

  public static String render(Stats stats, @Nullable Pattern filter, boolean usedOnly) {
    StringBuilder sb = new StringBuilder(8192);
    java.util.List<Stats.Value> all = new java.util.ArrayList<>(stats.counters(filter, usedOnly));
    all.addAll(stats.gauges(filter, usedOnly));
    all.sort(java.util.Comparator.comparing(Stats.Value::name));
    for (Stats.Value v : all) {
      if ((filter == null || filter.matcher(v.name()).find()) && (!usedOnly || v.used())
          && stats.config().included(v.name())) {
        sb.append(v.name()).append(": ").append(v.value()).append('\n');
      }
    }
    for (Histogram h : stats.histograms()) {
      if ((filter != null && !filter.matcher(h.name()).find()) || (usedOnly && h.count() == 0)
          || !stats.config().included(h.name())) {
        continue;
      }
      sb.append(h.name()).append(": ");
      if (h.count() == 0) {
        sb.append("No recorded values\n");
        continue;
      }
      for (int i = 0; i < QUANTILES.length; i++) {
        double q = h.quantile(QUANTILES[i]);
        sb.append(i == 0 ? "" : " ").append(LABELS[i]).append("(nan,")
            .append(String.format(Locale.ROOT, "%.1f", q)).append(')');
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
