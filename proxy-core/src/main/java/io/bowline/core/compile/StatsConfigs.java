package io.bowline.core.compile;

import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.stats.StatsConfig;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.metrics.v3.StatsMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.PatternSyntaxException;

/** The bootstrap's {@code stats_config} into {@link StatsConfig}: {@code stats_tags} and {@code stats_matcher}. */
final class StatsConfigs {
  private StatsConfigs() {}

  static StatsConfig compile(io.envoyproxy.envoy.config.metrics.v3.StatsConfig c, String path)
      throws ConfigException {
    Fields.allow(c, path, "stats_tags", "use_all_default_tags", "stats_matcher", "histogram_bucket_settings");
    if (c.getHistogramBucketSettingsCount() > 0) {
      throw new ConfigException(path + ".histogram_bucket_settings", "not supported by bowline yet");
    }
    List<StatsConfig.TagExtractor> tags = new ArrayList<>();
    for (int i = 0; i < c.getStatsTagsCount(); i++) {
      var t = c.getStatsTags(i);
      String tp = path + ".stats_tags[" + i + "]";
      Fields.allow(t, tp, "tag_name", "regex", "fixed_value");
      if (t.getTagName().isEmpty()) {
        throw new ConfigException(tp + ".tag_name", "required");
      }
      switch (t.getTagValueCase()) {
        case FIXED_VALUE -> tags.add(new StatsConfig.TagExtractor(t.getTagName(), null, t.getFixedValue()));
        case REGEX -> {
          try {
            tags.add(new StatsConfig.TagExtractor(t.getTagName(), StatsConfig.compileTagRegex(t.getRegex()), null));
          } catch (PatternSyntaxException e) {
            throw new ConfigException(tp + ".regex", "invalid regex: " + e.getDescription());
          }
        }
        default -> throw new ConfigException(tp, "regex or fixed_value is required (bowline has no default "
            + "regex for a tag name)");
      }
    }
    boolean defaults = !c.hasUseAllDefaultTags() || c.getUseAllDefaultTags().getValue();
    return new StatsConfig(tags, defaults, c.hasStatsMatcher() ? matcher(c.getStatsMatcher(), path + ".stats_matcher")
        : StatsConfig.EVERY_STAT);
  }

  private static Predicate<String> matcher(StatsMatcher m, String path) throws ConfigException {
    Fields.allow(m, path, "reject_all", "exclusion_list", "inclusion_list");
    return switch (m.getStatsMatcherCase()) {
      case REJECT_ALL -> m.getRejectAll() ? name -> false : StatsConfig.EVERY_STAT;
      case INCLUSION_LIST -> {
        List<HeaderMatcher> list = list(m.getInclusionList().getPatternsList(), path + ".inclusion_list.patterns");
        yield name -> anyMatch(list, name);
      }
      case EXCLUSION_LIST -> {
        List<HeaderMatcher> list = list(m.getExclusionList().getPatternsList(), path + ".exclusion_list.patterns");
        yield name -> !anyMatch(list, name);
      }
      default -> StatsConfig.EVERY_STAT;
    };
  }

  private static List<HeaderMatcher> list(List<StringMatcher> patterns, String path) throws ConfigException {
    List<HeaderMatcher> out = new ArrayList<>();
    for (int i = 0; i < patterns.size(); i++) {
      out.add(RouteCompiler.stringMatch("stat", patterns.get(i), path + "[" + i + "]", false, true));
    }
    return out;
  }

  private static boolean anyMatch(List<HeaderMatcher> list, String name) {
    for (HeaderMatcher h : list) {
      if (h.matchesValue(name)) {
        return true;
      }
    }
    return false;
  }
}
