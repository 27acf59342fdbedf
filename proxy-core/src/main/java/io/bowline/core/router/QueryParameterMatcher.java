package io.bowline.core.router;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Envoy's {@code QueryParameterMatcher}: {@code string_match} (exact/prefix/suffix/contains/regex) or present. */
public record QueryParameterMatcher(String name, HeaderMatcher.Kind kind, @Nullable String value,
    @Nullable Pattern regex, boolean ignoreCase) {

  /** @param query the raw query string, without the leading '?', or null */
  public boolean matches(@Nullable String query) {
    String v = firstValue(query, name);
    return v != null && test(v); // Envoy looks at the first occurrence only
  }

  /** The first value of parameter {@code name} in a raw query string ("" for a bare key), or null when absent. */
  public static @Nullable String firstValue(@Nullable String query, String name) {
    if (query == null) {
      return null;
    }
    int i = 0;
    while (i <= query.length()) {
      int amp = query.indexOf('&', i);
      if (amp < 0) {
        amp = query.length();
      }
      int eq = query.indexOf('=', i);
      boolean hasValue = eq >= 0 && eq < amp;
      int keyEnd = hasValue ? eq : amp;
      if (keyEnd - i == name.length() && query.startsWith(name, i)) {
        return hasValue ? query.substring(eq + 1, amp) : "";
      }
      i = amp + 1;
    }
    return null;
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
