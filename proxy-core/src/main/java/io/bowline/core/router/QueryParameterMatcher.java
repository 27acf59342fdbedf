package io.bowline.core.router;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Envoy's {@code QueryParameterMatcher}: {@code string_match} (exact/prefix/suffix/contains/regex) or present. */
public record QueryParameterMatcher(String name, HeaderMatcher.Kind kind, @Nullable String value,
    @Nullable Pattern regex, boolean ignoreCase) {

  /** @param query the raw query string, without the leading '?', or null */
  public boolean matches(@Nullable String query) {
    if (query == null) {
      return false;
    }
    int i = 0;
    while (i <= query.length()) {
      int amp = query.indexOf('&', i);
      if (amp < 0) {
        amp = query.length();
      }
      int eq = query.indexOf('=', i);
      String key;
      String val;
      if (eq >= 0 && eq < amp) {
        key = query.substring(i, eq);
        val = query.substring(eq + 1, amp);
      } else {
        key = query.substring(i, amp);
        val = "";
      }
      if (key.equals(name)) {
        return test(val); // Envoy looks at the first occurrence only
      }
      i = amp + 1;
    }
    return false;
  }

  private boolean test(String v) {
    return switch (kind) {
      case PRESENT -> true;
      case EXACT -> ignoreCase ? v.equalsIgnoreCase(value) : v.equals(value);
      case PREFIX -> v.regionMatches(ignoreCase, 0, value, 0, value.length());
      case SUFFIX -> v.length() >= value.length()
          && v.regionMatches(ignoreCase, v.length() - value.length(), value, 0, value.length());
      case CONTAINS -> ignoreCase ? v.toLowerCase(java.util.Locale.ROOT).contains(value) : v.contains(value);
      case REGEX -> regex.matcher(v).matches();
      case RANGE -> false;
    };
  }
}
