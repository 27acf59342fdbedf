package io.bowline.core.accesslog;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** One format string with command operators, split once into literal text and compiled operators. */
final class FormatTemplate {
  private static final Pattern COMMAND = Pattern.compile("%([A-Z0-9_]+)(?:\\(([^)]*)\\))?(?::([0-9]+))?%");

  /**
   * Operators whose values bowline makes itself from numbers, addresses and config, never from a client's bytes: no
   * control character can be in them, so text lines copy them without scanning.
   */
  private static final java.util.Set<String> OWN_VALUES = java.util.Set.of("START_TIME", "PROTOCOL",
      "UPSTREAM_PROTOCOL", "RESPONSE_CODE", "RESPONSE_FLAGS", "RESPONSE_FLAGS_LONG", "BYTES_RECEIVED", "BYTES_SENT",
      "DURATION", "REQUEST_DURATION", "RESPONSE_DURATION", "RESPONSE_TX_DURATION", "UPSTREAM_HOST",
      "UPSTREAM_REMOTE_ADDRESS", "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "UPSTREAM_REMOTE_PORT", "UPSTREAM_CLUSTER",
      "UPSTREAM_LOCAL_ADDRESS", "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "UPSTREAM_LOCAL_PORT",
      "UPSTREAM_REQUEST_ATTEMPT_COUNT", "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
      "DOWNSTREAM_REMOTE_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
      "DOWNSTREAM_DIRECT_REMOTE_PORT", "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
      "DOWNSTREAM_LOCAL_PORT", "ROUTE_NAME", "VIRTUAL_CLUSTER_NAME", "CONNECTION_ID", "UNIQUE_ID", "ACCESS_LOG_TYPE",
      "GRPC_STATUS", "GRPC_STATUS_NUMBER", "TRACE_ID");

  private final Object[] parts; // String or Operator
  private final boolean[] clientBytes; // per part: an operator whose value may carry a client's bytes

  private FormatTemplate(Object[] parts, boolean[] clientBytes) {
    this.parts = parts;
    this.clientBytes = clientBytes;
  }

  /** Compiles {@code format}; the message of the exception says what was wrong, in Envoy's words where it has some. */
  static FormatTemplate parse(String format) {
    List<Object> parts = new ArrayList<>();
    List<Boolean> clientBytes = new ArrayList<>();
    StringBuilder lit = new StringBuilder();
    Matcher m = COMMAND.matcher(format);
    int i = 0;
    while (i < format.length()) {
      char c = format.charAt(i);
      if (c != '%') {
        lit.append(c);
        i++;
        continue;
      }
      m.region(i, format.length());
      if (!m.lookingAt()) {
        throw new IllegalArgumentException("Incorrect configuration: " + format
            + ". Couldn't find valid command at position " + i);
      }
      if (lit.length() > 0) {
        parts.add(lit.toString());
        clientBytes.add(false);
        lit.setLength(0);
      }
      int max = -1;
      if (m.group(3) != null) {
        try {
          max = Integer.parseInt(m.group(3));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("length limit " + m.group(3) + " is too large");
        }
      }
      parts.add(CommandOperators.of(m.group(1), m.group(2), max));
      clientBytes.add(!OWN_VALUES.contains(m.group(1)));
      i = m.end();
    }
    if (lit.length() > 0) {
      parts.add(lit.toString());
      clientBytes.add(false);
    }
    boolean[] escape = new boolean[clientBytes.size()];
    for (int k = 0; k < escape.length; k++) {
      escape[k] = clientBytes.get(k);
    }
    return new FormatTemplate(parts.toArray(), escape);
  }

  /** The operator when the whole template is exactly one command (its value keeps its type in typed JSON). */
  @Nullable Operator single() {
    return parts.length == 1 && parts[0] instanceof Operator op ? op : null;
  }

  /**
   * Appends the text; an operator without a value appends {@code empty} ("-", or "" with omit_empty_values).
   * {@code escape} escapes control characters in values that may carry a client's bytes (JSON escapes them itself).
   */
  void render(StringBuilder sb, AccessLogFacts f, String empty, boolean escape) {
    for (int i = 0; i < parts.length; i++) {
      Object p = parts[i];
      if (p instanceof String s) {
        sb.append(s);
      } else {
        Object v = ((Operator) p).value(f);
        if (v == null) {
          sb.append(empty);
        } else if (v instanceof String s) {
          if (escape && clientBytes[i]) {
            appendEscaped(sb, s);
          } else {
            sb.append(s);
          }
        } else if (v instanceof Long n) {
          sb.append(n.longValue()); // digits straight into the line: no String per number
        } else {
          sb.append(v);
        }
      }
    }
  }

  /**
   * Control bytes in values (request headers are the client's) are written as {@code \xNN}, so one entry is always
   * one line and nobody can forge another (HOSTILE-INPUTS HDR-08).
   */
  static void appendEscaped(StringBuilder sb, String s) {
    int clean = 0;
    int n = s.length();
    while (clean < n) {
      char c = s.charAt(clean);
      if (c < 0x20 || c == 0x7f) {
        break;
      }
      clean++;
    }
    if (clean == n) {
      sb.append(s); // the common case: one bulk copy (append(s, 0, n) would copy char by char)
      return;
    }
    sb.append(s, 0, clean);
    for (int i = clean; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
      } else {
        sb.append(c);
      }
    }
  }
}
