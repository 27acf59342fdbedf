package io.bowline.core.router;

import java.util.regex.Pattern;

/** The path part of a route match; the path given excludes the query string. */
public sealed interface PathMatcher {
  boolean matches(String path);

  /** The literal part a {@code prefix_rewrite} replaces. */
  String prefix();

  /** {@code prefix}: the path starts with the value (case-insensitive when the route says so). */
  record Prefix(String prefix, boolean caseSensitive) implements PathMatcher {
    public boolean matches(String path) {
      return path.regionMatches(!caseSensitive, 0, prefix, 0, prefix.length());
    }
  }

  /** {@code path}: the whole path equals the value. */
  record Exact(String prefix, boolean caseSensitive) implements PathMatcher {
    public boolean matches(String path) {
      return caseSensitive ? path.equals(prefix) : path.equalsIgnoreCase(prefix);
    }
  }

  /** {@code path_separated_prefix}: the value, then the end of the path or a '/'. */
  record SeparatedPrefix(String prefix, boolean caseSensitive) implements PathMatcher {
    public boolean matches(String path) {
      if (!path.regionMatches(!caseSensitive, 0, prefix, 0, prefix.length())) {
        return false;
      }
      return path.length() == prefix.length() || path.charAt(prefix.length()) == '/';
    }
  }

  /** {@code safe_regex}: the whole path matches (RE2 syntax; compiled once with java.util.regex). */
  record Regex(Pattern pattern) implements PathMatcher {
    public boolean matches(String path) {
      return pattern.matcher(path).matches();
    }

    public String prefix() {
      return "";
    }
  }

  /** {@code path_match_policy} with Envoy's uri_template matcher: the whole path matches the template. */
  record Template(UriTemplate template) implements PathMatcher {
    public boolean matches(String path) {
      return template.matches(path);
    }

    public String prefix() {
      return "";
    }
  }
}
