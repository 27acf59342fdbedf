package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code config.route.v3.HeaderMatcher}, compiled. Several values of one header are matched as Envoy does:
 * joined with {@code ","} into one value.
 */
public record HeaderMatcher(String name, Kind kind, @Nullable String value, @Nullable Pattern regex, long rangeStart,
    long rangeEnd, boolean presentWanted, boolean ignoreCase, boolean invert, boolean treatMissingAsEmpty) {

  /** How the value is compared. */
  public enum Kind { EXACT, PREFIX, SUFFIX, CONTAINS, REGEX, PRESENT, RANGE }

  public boolean matches(HttpHeaders headers) {
    return matches(headers, null);
  }

  /** The same, where a matcher on {@code :method}, {@code :path} or {@code :scheme} reads {@code line}. */
  public boolean matches(HttpHeaders headers, @Nullable RequestLine line) {
    List<String> all;
    if (name.charAt(0) == ':') {
      String p = line == null ? null : line.pseudo(name);
      all = p == null ? List.of() : List.of(p);
    } else {
      all = headers.getAll(name);
    }
    String v;
    if (all.isEmpty()) {
      if (kind == Kind.PRESENT) {
        return presentWanted == invert; // absent: matches "present: false", or an inverted "present: true"
      }
      if (!treatMissingAsEmpty) {
        return false; // Envoy: a missing header never matches, even inverted
      }
      v = "";
    } else {
      v = all.size() == 1 ? all.get(0) : String.join(",", all);
    }
    return test(v) != invert;
  }

  /** Whether a plain string value matches (a StringMatcher used outside headers: stats_matcher). */
  public boolean matchesValue(String v) {
    return test(v) != invert;
  }

  private boolean test(String v) {
    switch (kind) {
      case PRESENT:
        return presentWanted;
      case EXACT:
        return ignoreCase ? v.equalsIgnoreCase(value) : v.equals(value);
      case PREFIX:
        return v.regionMatches(ignoreCase, 0, value, 0, value.length());
      case SUFFIX:
        return v.length() >= value.length()
            && v.regionMatches(ignoreCase, v.length() - value.length(), value, 0, value.length());
      case CONTAINS:
        return ignoreCase ? v.toLowerCase(java.util.Locale.ROOT).contains(value) : v.contains(value);
      case REGEX:
        return regex.matcher(v).matches();
      case RANGE:
        try {
          long n = Long.parseLong(v);
          return n >= rangeStart && n < rangeEnd;
        } catch (NumberFormatException e) {
          return false;
        }
      default:
        return false;
    }
  }
}
