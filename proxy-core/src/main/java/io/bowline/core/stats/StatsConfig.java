package io.bowline.core.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The bootstrap's {@code stats_config}: which stats are shown ({@code stats_matcher}) and how a stat's name is split
 * into a Prometheus name and tags ({@code stats_tags}, {@code use_all_default_tags}). Compiled once; read when stats
 * are rendered, never on the data path.
 */
public final class StatsConfig {
  /** No {@code stats_matcher}, or one that rejects nothing: every stat is shown. */
  public static final Predicate<String> EVERY_STAT = name -> true;
  /** Envoy's defaults: every stat, default tags only. */
  public static final StatsConfig DEFAULT = new StatsConfig(List.of(), true, EVERY_STAT);

  private final List<TagExtractor> custom;
  private final boolean defaultTags;
  private final Predicate<String> included;

  public StatsConfig(List<TagExtractor> custom, boolean defaultTags, Predicate<String> included) {
    this.custom = List.copyOf(custom);
    this.defaultTags = defaultTags;
    this.included = included;
  }

  /** Whether {@code stats_matcher} lets the stat be shown. */
  public boolean included(String statName) {
    return included.test(statName);
  }

  /** Whether every stat is shown: then a stat's full name need not be built to ask {@link #included}. */
  boolean includesAll() {
    return included == EVERY_STAT;
  }

  /**
   * One {@code stats_tags} entry: a {@code fixed_value} added to every stat, or a regex whose first capture group
   * is cut from the name and whose second (else first) is the tag's value, as Envoy's tag extractors work. The
   * regex is searched in the full stat name.
   */
  public record TagExtractor(String name, @Nullable Pattern regex, @Nullable String fixedValue) {}

  /** A stat's Prometheus name and tags. */
  StatsPrometheus.Tagged tag(String statName, java.util.Set<String> clusters) {
    if (custom.isEmpty()) {
      return defaultTags ? StatsPrometheus.defaultTags(statName, clusters)
          : new StatsPrometheus.Tagged("envoy_" + StatsPrometheus.sanitize(statName), Map.of());
    }
    Map<String, String> tags = new LinkedHashMap<>();
    List<int[]> cuts = new ArrayList<>();
    for (TagExtractor t : custom) {
      if (t.fixedValue() != null) {
        tags.put(StatsPrometheus.sanitize(t.name()), t.fixedValue());
        continue;
      }
      Matcher m = t.regex().matcher(statName);
      if (!m.find() || m.groupCount() < 1 || m.group(1) == null) {
        continue;
      }
      String value = m.groupCount() >= 2 && m.group(2) != null ? m.group(2) : m.group(1);
      tags.put(StatsPrometheus.sanitize(t.name()), value);
      cuts.add(new int[] {m.start(1), m.end(1)});
    }
    String reduced = cut(statName, cuts);
    if (defaultTags) {
      StatsPrometheus.Tagged d = StatsPrometheus.defaultTags(reduced, clusters);
      Map<String, String> all = new LinkedHashMap<>(d.tags());
      all.putAll(tags);
      return new StatsPrometheus.Tagged(d.name(), all);
    }
    return new StatsPrometheus.Tagged("envoy_" + StatsPrometheus.sanitize(reduced), tags);
  }

  private static String cut(String name, List<int[]> cuts) {
    if (cuts.isEmpty()) {
      return name;
    }
    boolean[] removed = new boolean[name.length()];
    for (int[] c : cuts) {
      for (int i = c[0]; i < c[1]; i++) {
        removed[i] = true;
      }
    }
    StringBuilder sb = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      if (!removed[i]) {
        sb.append(name.charAt(i));
      }
    }
    return sb.toString();
  }

  /**
   * Envoy compiles stats_tags regexes as ECMAScript (std::regex), whose POSIX bracket classes Java lacks:
   * {@code [[:digit:]]} and its kin become {@code \p{Digit}}.
   */
  public static Pattern compileTagRegex(String regex) {
    String r = regex;
    String[][] classes = {{"[:digit:]", "\\p{Digit}"}, {"[:alpha:]", "\\p{Alpha}"}, {"[:alnum:]", "\\p{Alnum}"},
        {"[:upper:]", "\\p{Upper}"}, {"[:lower:]", "\\p{Lower}"}, {"[:space:]", "\\s"}, {"[:punct:]", "\\p{Punct}"},
        {"[:xdigit:]", "\\p{XDigit}"}, {"[:word:]", "\\w"}};
    for (String[] c : classes) {
      r = r.replace(c[0], c[1]);
    }
    return Pattern.compile(r);
  }
}
