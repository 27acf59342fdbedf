package io.bowline.core.stats;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Envoy's {@code /stats/prometheus}: names prefixed {@code envoy_}, with Envoy's default tag extraction
 * ({@code cluster.<name>.} → {@code envoy_cluster_name}, {@code http.<prefix>.} →
 * {@code envoy_http_conn_manager_prefix}, {@code listener.<address>.} → {@code envoy_listener_address}, response
 * codes and classes → {@code envoy_response_code}/{@code envoy_response_code_class}).
 */
public final class StatsPrometheus {
  private static final Pattern CODE = Pattern.compile("^(.*_rq)_(\\d{3})$");
  private static final Pattern CODE_CLASS = Pattern.compile("^(.*_rq)_(\\d)xx$");

  private StatsPrometheus() {}

  /** A stat name split into its Prometheus name and tags. */
  record Tagged(String name, Map<String, String> tags) {}

  /**
   * Envoy's listener_address extractor: an IPv4 address and port ({@code 0.0.0.0_15001}) or a bracketed IPv6 one
   * ({@code [__]_15001}); a listener named otherwise (a {@code stat_prefix}, {@code admin}) gets no tag, as in Envoy.
   */
  private static final Pattern LISTENER_ADDRESS = Pattern.compile("^listener\\.((?:[_.0-9]*|[_\\[\\]a-fA-F0-9]*))\\.");

  /** The stat's name and tags under the store's stats_config. */
  static Tagged tag(Stats stats, String statName) {
    return stats.config().tag(statName, stats.clusterNames());
  }

  static Tagged defaultTags(String statName) {
    return defaultTags(statName, java.util.Set.of());
  }

  /**
   * bowline's default tags: Envoy's, except that a cluster name keeps its dots (Envoy's default extractor stops at
   * the first, which cuts Istio's {@code outbound|80||svc.ns.svc.cluster.local}): the longest of {@code clusters}
   * the name starts with, else all but the stat's last segment.
   */
  static Tagged defaultTags(String statName, java.util.Set<String> clusters) {
    Map<String, String> tags = new LinkedHashMap<>();
    String rest = statName;
    String prefix;
    Matcher listener;
    if (rest.startsWith("cluster.") && rest.indexOf('.', 8) > 0 && !rest.startsWith("cluster_manager.")) {
      int dot = clusterNameEnd(rest, clusters);
      tags.put("envoy_cluster_name", rest.substring(8, dot));
      prefix = "cluster.";
      rest = rest.substring(dot + 1);
    } else if (rest.startsWith("http.") && rest.indexOf('.', 5) > 0) {
      int dot = rest.indexOf('.', 5);
      tags.put("envoy_http_conn_manager_prefix", rest.substring(5, dot));
      prefix = "http.";
      rest = rest.substring(dot + 1);
    } else if (rest.startsWith("listener.") && (listener = LISTENER_ADDRESS.matcher(rest)).lookingAt()) {
      tags.put("envoy_listener_address", listener.group(1));
      prefix = "listener.";
      rest = rest.substring(listener.end());
    } else if (rest.startsWith("listener_manager.worker_") && rest.indexOf('.', 24) > 0) {
      int dot = rest.indexOf('.', 24); // Envoy's worker_id extractor: listener_manager.(worker_<n>).
      tags.put("envoy_worker_id", rest.substring(17, dot));
      prefix = "listener_manager.";
      rest = rest.substring(dot + 1);
    } else if (rest.startsWith("tcp.") && rest.indexOf('.', 4) > 0) {
      int dot = rest.indexOf('.', 4);
      tags.put("envoy_tcp_prefix", rest.substring(4, dot));
      prefix = "tcp.";
      rest = rest.substring(dot + 1);
    } else {
      prefix = "";
    }
    Matcher m = CODE.matcher(rest);
    if (m.matches()) {
      tags.put("envoy_response_code", m.group(2));
      rest = m.group(1);
    } else {
      m = CODE_CLASS.matcher(rest);
      if (m.matches()) {
        tags.put("envoy_response_code_class", m.group(2));
        rest = m.group(1) + "_xx";
      }
    }
    return new Tagged("envoy_" + sanitize(prefix + rest), tags);
  }

  /** Where the cluster name of {@code cluster.<name>.<stat>} ends: after a known name, else at the last dot. */
  private static int clusterNameEnd(String s, java.util.Set<String> clusters) {
    String known = Stats.clusterOf(s, clusters);
    return known != null ? 8 + known.length() : s.lastIndexOf('.');
  }

  static String sanitize(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      sb.append(Character.isLetterOrDigit(c) && c < 128 ? c : '_');
    }
    return sb.toString();
  }

  public static String render(Stats stats) {
    return render(stats, null, false);
  }

  /**
   * The stats as Prometheus text; with {@code filter} only those whose (Envoy) name the regex finds, and with
   * {@code usedOnly} only those that have counted something, as Envoy's {@code ?filter=} and {@code ?usedonly}. Whole,
   * for tests and small stores: the admin endpoint streams {@link PrometheusChunks} instead.
   */
  public static String render(Stats stats, java.util.regex.@org.jspecify.annotations.Nullable Pattern filter,
      boolean usedOnly) {
    return new PrometheusChunks(stats, filter, usedOnly, "").drain();
  }

  /** One stat's sample lines: a counter's or gauge's value, or a histogram's buckets, sum and count. */
  static void line(StringBuilder sb, String family, Map<String, String> tags, String segment, Object value) {
    if (value instanceof Histogram h) {
      long[] cum = h.cumulative();
      for (int i = 0; i < cum.length; i++) {
        String le = i < Histogram.BOUNDS.length ? fmt(Histogram.BOUNDS[i]) : "+Inf";
        sb.append(family).append("_bucket");
        labels(sb, tags, "le", le);
        sb.append(' ').append(cum[i]).append('\n');
      }
      sb.append(family).append("_sum");
      labels(sb, tags, null, null);
      sb.append(' ').append(fmt(h.sumMillis())).append('\n');
      sb.append(family).append("_count");
      labels(sb, tags, null, null);
      sb.append(' ').append(cum[cum.length - 1]).append('\n'); // the +Inf bucket's, as Prometheus requires
      return;
    }
    sb.append(family);
    labels(sb, tags, null, null);
    sb.append(' ').append(Stats.valueOf(value, segment)).append('\n');
  }

  private static void labels(StringBuilder sb, Map<String, String> tags, String extraName, String extraValue) {
    if (tags.isEmpty() && extraName == null) {
      return;
    }
    sb.append('{');
    boolean first = true;
    for (var t : tags.entrySet()) {
      sb.append(first ? "" : ",").append(t.getKey()).append("=\"").append(escape(t.getValue())).append('"');
      first = false;
    }
    if (extraName != null) {
      sb.append(first ? "" : ",").append(extraName).append("=\"").append(extraValue).append('"');
    }
    sb.append('}');
  }

  private static String escape(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%s", d);
  }
}
