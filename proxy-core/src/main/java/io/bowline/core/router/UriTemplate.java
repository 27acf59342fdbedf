package io.bowline.core.router;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's URI templates ({@code envoy.path.match.uri_template} and {@code envoy.path.rewrite.uri_template}), compiled
 * once into a regex. A match template is literal path text with operators: {@code *} one path segment,
 * {@code **} any number of segments (only as the last operator), {@code {name}} or {@code {name=pattern}} a named
 * variable (of one segment, or of its pattern). A rewrite template is literal text and the match's variables.
 */
public final class UriTemplate {
  /** What a path segment may hold (RFC 3986 pchar, as Envoy's matcher accepts). */
  private static final String SEGMENT_CHARS = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
  private static final String ONE_SEGMENT = "[" + SEGMENT_CHARS + "]+";
  private static final String MANY_SEGMENTS = "[" + SEGMENT_CHARS + "/]*";
  private static final int MAX_VARIABLES = 5;

  private final Pattern pattern;
  private final List<String> variables;

  private UriTemplate(Pattern pattern, List<String> variables) {
    this.pattern = pattern;
    this.variables = List.copyOf(variables);
  }

  public List<String> variables() {
    return variables;
  }

  /** Whether the whole path (without its query) matches. */
  public boolean matches(String path) {
    return pattern.matcher(path).matches();
  }

  /** Parses a match template; the message of the exception says what is wrong with it. */
  public static UriTemplate parse(String template) {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("must start with '/'");
    }
    StringBuilder re = new StringBuilder();
    List<String> vars = new ArrayList<>();
    boolean[] sawMany = {false};
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c == '{') {
        int end = template.indexOf('}', i);
        if (end < 0) {
          throw new IllegalArgumentException("unclosed '{' at " + i);
        }
        String body = template.substring(i + 1, end);
        int eq = body.indexOf('=');
        String name = eq < 0 ? body : body.substring(0, eq);
        if (!name.matches("[a-zA-Z][a-zA-Z0-9_]*")) {
          throw new IllegalArgumentException("invalid variable name \"" + name + "\"");
        }
        if (vars.contains(name)) {
          throw new IllegalArgumentException("variable \"" + name + "\" appears twice");
        }
        vars.add(name);
        if (vars.size() > MAX_VARIABLES) {
          throw new IllegalArgumentException("more than " + MAX_VARIABLES + " variables");
        }
        re.append("(?<").append(name).append('>');
        if (eq < 0) {
          operatorAfterMany(sawMany);
          re.append(ONE_SEGMENT);
        } else {
          String sub = body.substring(eq + 1);
          if (sub.isEmpty() || sub.contains("{")) {
            throw new IllegalArgumentException("invalid pattern for variable \"" + name + "\"");
          }
          appendOperators(sub, re, sawMany);
        }
        re.append(')');
        i = end + 1;
      } else if (c == '}') {
        throw new IllegalArgumentException("unexpected '}' at " + i);
      } else {
        int next = nextBrace(template, i);
        appendOperators(template.substring(i, next), re, sawMany);
        i = next;
      }
    }
    return new UriTemplate(Pattern.compile(re.toString()), vars);
  }

  private static int nextBrace(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      if (s.charAt(i) == '{' || s.charAt(i) == '}') {
        return i;
      }
    }
    return s.length();
  }

  /** Literal text with {@code *} and {@code **} operators. */
  private static void appendOperators(String text, StringBuilder re, boolean[] sawMany) {
    int i = 0;
    while (i < text.length()) {
      if (text.startsWith("**", i)) {
        operatorAfterMany(sawMany);
        sawMany[0] = true;
        re.append(MANY_SEGMENTS);
        i += 2;
      } else if (text.charAt(i) == '*') {
        operatorAfterMany(sawMany);
        re.append(ONE_SEGMENT);
        i++;
      } else {
        char c = text.charAt(i);
        if (c != '/' && !isSegmentChar(c)) {
          throw new IllegalArgumentException("'" + c + "' is not allowed in a path template");
        }
        re.append(Pattern.quote(String.valueOf(c)));
        i++;
      }
    }
  }

  private static void operatorAfterMany(boolean[] sawMany) {
    if (sawMany[0]) {
      throw new IllegalArgumentException("'**' must be the last operator");
    }
  }

  private static boolean isSegmentChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~%!$&'()+,;:@=".indexOf(c) >= 0;
  }

  /**
   * A rewrite template over this match template's variables: literal text and {@code {name}} references; the
   * message of the exception says what is wrong with it.
   */
  public Rewrite rewrite(String template) {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("must start with '/'");
    }
    List<Object> parts = new ArrayList<>();
    int i = 0;
    while (i < template.length()) {
      int open = template.indexOf('{', i);
      if (open < 0) {
        parts.add(literal(template.substring(i)));
        break;
      }
      if (open > i) {
        parts.add(literal(template.substring(i, open)));
      }
      int close = template.indexOf('}', open);
      if (close < 0) {
        throw new IllegalArgumentException("unclosed '{' at " + open);
      }
      String name = template.substring(open + 1, close);
      if (!variables.contains(name)) {
        throw new IllegalArgumentException("variable \"" + name + "\" is not in the path_match_policy template");
      }
      parts.add(new Var(name));
      i = close + 1;
    }
    return new Rewrite(this, List.copyOf(parts));
  }

  private static String literal(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '*' || c == '}' || c != '/' && !isSegmentChar(c)) {
        throw new IllegalArgumentException("'" + c + "' is not allowed in a rewrite template");
      }
    }
    return s;
  }

  private record Var(String name) {}

  /** A path rewrite: the matched variables put into the rewrite template. */
  public record Rewrite(UriTemplate match, List<Object> parts) {
    /** The rewritten path, or null when the path does not match (then it is left alone). */
    public @Nullable String apply(String path) {
      Matcher m = match.pattern.matcher(path);
      if (!m.matches()) {
        return null;
      }
      StringBuilder out = new StringBuilder(path.length() + 16);
      for (Object p : parts) {
        out.append(p instanceof Var v ? m.group(v.name()) : (String) p);
      }
      return out.toString();
    }
  }
}
