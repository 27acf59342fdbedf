package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import org.jspecify.annotations.Nullable;

/**
 * The HCM's path policy, applied once before routing so that routing, every filter and the upstream see one path:
 * {@code normalize_path} (RFC 3986 dot-segment removal, {@code %2e} counted as '.', '\' as '/'),
 * {@code merge_slashes}, and {@code path_with_escaped_slashes_action} for {@code %2F}/{@code %5C}. Linear in the
 * path's length.
 */
public final class PathNormalizer {
  /** The outcome: the path to use, or a rejection, or a redirect to the unescaped path. */
  public record Result(Kind kind, @Nullable String path) {
    static final Result REJECT = new Result(Kind.REJECT, null);
  }

  /** What to do with the request. */
  public enum Kind { OK, REJECT, REDIRECT }

  private PathNormalizer() {}

  /** @param path the path without the query string; must start with '/' */
  public static Result apply(String path, HcmConfig.PathPolicy policy) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c <= 0x20 || c >= 0x7f || c == '#') {
        return Result.REJECT;
      }
      if (c == '%' && policy.normalize()) {
        if (i + 2 >= path.length() || hex(path.charAt(i + 1)) < 0 || hex(path.charAt(i + 2)) < 0) {
          return Result.REJECT;
        }
        if (path.charAt(i + 1) == '0' && path.charAt(i + 2) == '0') {
          return Result.REJECT;
        }
      }
    }
    String p = path;
    boolean redirect = false;
    if (policy.escapedSlashes() != HcmConfig.EscapedSlashes.KEEP_UNCHANGED && hasEscapedSlash(p)) {
      switch (policy.escapedSlashes()) {
        case REJECT_REQUEST:
          return Result.REJECT;
        case UNESCAPE_AND_REDIRECT:
          redirect = true;
          p = unescapeSlashes(p);
          break;
        default:
          p = unescapeSlashes(p);
          break;
      }
    }
    if (policy.normalize()) {
      p = removeDotSegments(p.replace('\\', '/'));
    }
    if (policy.mergeSlashes()) {
      p = mergeSlashes(p);
    }
    if (redirect) {
      return new Result(Kind.REDIRECT, p);
    }
    return new Result(Kind.OK, p);
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }

  private static boolean hasEscapedSlash(String p) {
    int i = p.indexOf('%');
    while (i >= 0 && i + 2 < p.length()) {
      char a = p.charAt(i + 1);
      char b = p.charAt(i + 2);
      if ((a == '2' && (b == 'f' || b == 'F')) || (a == '5' && (b == 'c' || b == 'C'))) {
        return true;
      }
      i = p.indexOf('%', i + 1);
    }
    return false;
  }

  private static String unescapeSlashes(String p) {
    StringBuilder sb = new StringBuilder(p.length());
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '%' && i + 2 < p.length()) {
        char a = p.charAt(i + 1);
        char b = p.charAt(i + 2);
        if (a == '2' && (b == 'f' || b == 'F')) {
          sb.append('/');
          i += 2;
          continue;
        }
        if (a == '5' && (b == 'c' || b == 'C')) {
          sb.append('\\');
          i += 2;
          continue;
        }
      }
      sb.append(c);
    }
    return sb.toString();
  }

  /** RFC 3986 §5.2.4 over segments, treating "%2e"/"%2E" as '.'; never climbs above the root. */
  static String removeDotSegments(String p) {
    if (p.indexOf('.') < 0 && p.indexOf('%') < 0) {
      return p;
    }
    String[] segs = p.split("/", -1);
    String[] out = new String[segs.length];
    int n = 0;
    for (int i = 1; i < segs.length; i++) {
      String s = segs[i];
      String d = s.replace("%2e", ".").replace("%2E", ".");
      boolean last = i == segs.length - 1;
      if (d.equals(".")) {
        if (last) {
          out[n++] = "";
        }
      } else if (d.equals("..")) {
        if (n > 0) {
          n--;
        }
        if (last) {
          out[n++] = "";
        }
      } else {
        out[n++] = s;
      }
    }
    StringBuilder sb = new StringBuilder(p.length());
    for (int i = 0; i < n; i++) {
      sb.append('/').append(out[i]);
    }
    return sb.length() == 0 ? "/" : sb.toString();
  }

  static String mergeSlashes(String p) {
    if (!p.contains("//")) {
      return p;
    }
    StringBuilder sb = new StringBuilder(p.length());
    char prev = 0;
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '/' && prev == '/') {
        continue;
      }
      sb.append(c);
      prev = c;
    }
    return sb.toString();
  }
}
