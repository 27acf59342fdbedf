package io.bowline.core.accesslog;

import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
  private static final Set<String> OWN_VALUES = Set.of("START_TIME", "PROTOCOL",
      "UPSTREAM_PROTOCOL", "RESPONSE_CODE", "RESPONSE_FLAGS", "RESPONSE_FLAGS_LONG", "BYTES_RECEIVED", "BYTES_SENT",
      "DURATION", "REQUEST_DURATION", "RESPONSE_DURATION", "RESPONSE_TX_DURATION", "UPSTREAM_HOST",
      "UPSTREAM_REMOTE_ADDRESS", "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "UPSTREAM_REMOTE_PORT", "UPSTREAM_CLUSTER",
      "UPSTREAM_LOCAL_ADDRESS", "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "UPSTREAM_LOCAL_PORT",
      "UPSTREAM_REQUEST_ATTEMPT_COUNT", "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
      "DOWNSTREAM_REMOTE_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
      "DOWNSTREAM_DIRECT_REMOTE_PORT", "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
      "DOWNSTREAM_LOCAL_PORT", "ROUTE_NAME", "VIRTUAL_CLUSTER_NAME", "CONNECTION_ID", "UNIQUE_ID", "ACCESS_LOG_TYPE",
      "GRPC_STATUS", "GRPC_STATUS_NUMBER", "TRACE_ID");

  /**
   * Operators whose values are a client's bytes as a codec decoded them, one byte per character: text lines write
   * those bytes back unchanged ({@link LineBuilder#wire}).
   */
  private static final Set<String> WIRE_VALUES = Set.of("REQ", "RESP", "TRAILER",
      "REQ_WITHOUT_QUERY", "STREAM_ID");

  /** How a text line writes a part's string value. */
  private static final byte OWN = 0; // bowline's own text: UTF-8, nothing to escape
  private static final byte TEXT = 1; // text that may hold what a client chose: UTF-8, control characters escaped
  private static final byte WIRE = 2; // a client's bytes: written back as they came, control characters escaped

  /** What a text line does with an operator: write its number, or its value in one of the modes. */
  private static final byte NUMBER = 3;
  /** {@code %START_TIME%} in Envoy's default form, written by the line from its own per-second cache. */
  private static final byte ISO_TIME = 4;

  private final Object[] parts; // String or Operator
  /** The request headers its operators read (what a connection manager captures when it forwards a request). */
  private final Set<AsciiString> requestHeaderNames;
  /**
   * The text line's form: each operator with the literal text before it (encoded once, here) and how its value is
   * written, then the literal after the last one — one step per operator, and no type test on the way.
   */
  private final byte[][] prefixes;
  private final byte[] kinds; // NUMBER, ISO_TIME, or the mode of a value: OWN, TEXT or WIRE
  private final NumberOperator[] numbers;
  private final Operator[] values;
  private final byte[] suffix;

  private FormatTemplate(Object[] parts, byte[] modes, Set<AsciiString> requestHeaderNames) {
    this.parts = parts;
    this.requestHeaderNames = Set.copyOf(requestHeaderNames);
    int ops = 0;
    for (Object p : parts) {
      ops += p instanceof Operator ? 1 : 0;
    }
    this.prefixes = new byte[ops][];
    this.kinds = new byte[ops];
    this.numbers = new NumberOperator[ops];
    this.values = new Operator[ops];
    byte[] pending = new byte[0];
    int op = 0;
    for (int i = 0; i < parts.length; i++) {
      if (parts[i] instanceof String s) {
        pending = s.getBytes(java.nio.charset.StandardCharsets.UTF_8); // parse never puts two literals in a row
        continue;
      }
      prefixes[op] = pending;
      pending = new byte[0];
      if (parts[i] instanceof NumberOperator n) {
        kinds[op] = NUMBER;
        numbers[op] = n;
      } else {
        kinds[op] = modes[i];
        values[op] = (Operator) parts[i];
      }
      op++;
    }
    this.suffix = pending;
  }

  /** Compiles {@code format}; the message of the exception says what was wrong, in Envoy's words where it has some. */
  static FormatTemplate parse(String format) {
    List<Object> parts = new ArrayList<>();
    List<Byte> modes = new ArrayList<>();
    Set<AsciiString> requestHeaders = new LinkedHashSet<>();
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
        modes.add(OWN); // a literal's mode is never read: it keeps the list beside parts
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
      parts.add(CommandOperators.of(m.group(1), m.group(2), max, requestHeaders));
      String name = m.group(1);
      boolean isoTime = name.equals("START_TIME") && (m.group(2) == null || m.group(2).isEmpty()) && max < 0;
      modes.add(isoTime ? ISO_TIME : WIRE_VALUES.contains(name) ? WIRE : OWN_VALUES.contains(name) ? OWN : TEXT);
      i = m.end();
    }
    if (lit.length() > 0) {
      parts.add(lit.toString());
      modes.add(OWN);
    }
    byte[] modeArray = new byte[modes.size()];
    for (int k = 0; k < modeArray.length; k++) {
      modeArray[k] = modes.get(k);
    }
    return new FormatTemplate(parts.toArray(), modeArray, requestHeaders);
  }

  Set<AsciiString> requestHeaderNames() {
    return requestHeaderNames;
  }

  /** The operator when the whole template is exactly one command (its value keeps its type in typed JSON). */
  @Nullable Operator single() {
    return parts.length == 1 && parts[0] instanceof Operator op ? op : null;
  }

  /**
   * Writes a text line's part: an operator without a value writes {@code empty} ("-", or nothing with
   * omit_empty_values); values that may carry a client's bytes have their control characters escaped.
   */
  void render(LineBuilder out, AccessLogFacts f, byte[] empty) {
    byte[] kinds = this.kinds;
    for (int i = 0; i < kinds.length; i++) {
      out.bytes(prefixes[i]);
      byte kind = kinds[i];
      if (kind == NUMBER) {
        NumberOperator n = numbers[i];
        // the facts' own fields are called directly, the rest through the interface (FieldOperators)
        long v = n instanceof FieldOperators.NumberField field ? field.number(f) : n.number(f);
        if (v == NumberOperator.NONE) {
          out.bytes(empty);
        } else {
          out.number(v);
        }
        continue;
      }
      if (kind == ISO_TIME) {
        out.isoMillis(f.startEpochMillis);
        continue;
      }
      Operator op = values[i];
      Object v = op instanceof FieldOperators.TextField field ? field.value(f)
          : op instanceof FieldOperators.RequestHeader header ? header.raw(f) : op.value(f);
      if (v == null) {
        out.bytes(empty);
      } else if (v instanceof AsciiString a) { // a request header's bytes as the codec read them: WIRE
        out.wire(a, true);
      } else if (v instanceof String s) {
        if (kind == WIRE) {
          out.wire(s, true);
        } else {
          out.utf8(s, kind == TEXT);
        }
      } else if (v instanceof Long n) {
        out.number(n);
      } else {
        out.utf8(v.toString(), kind != OWN);
      }
    }
    out.bytes(suffix);
  }

  /** A JSON value's text (its string escaping is JSON's); an operator without a value appends {@code empty}. */
  void render(StringBuilder sb, AccessLogFacts f, String empty) {
    for (Object p : parts) {
      if (p instanceof String s) {
        sb.append(s);
      } else {
        Object v = ((Operator) p).value(f);
        sb.append(v == null ? empty : v);
      }
    }
  }
}
