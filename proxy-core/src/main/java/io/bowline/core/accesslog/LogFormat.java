package io.bowline.core.accesslog;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A compiled access-log format: Envoy's text format string, or its JSON dictionary ({@code json_format}, whose
 * single-operator values keep their type — numbers stay numbers — and {@code typed_json_format}; the deprecated
 * {@code FileAccessLog.json_format} renders every value as a string). Formatting runs on the entry's event loop.
 */
public abstract class LogFormat {
  /** Envoy's default format, used when an access log names none. */
  public static final String ENVOY_DEFAULT = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
      + "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
      + "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

  private final Set<AsciiString> requestHeaderNames;

  private LogFormat(Set<AsciiString> requestHeaderNames) {
    this.requestHeaderNames = Set.copyOf(requestHeaderNames);
  }

  /** The request headers its operators read ({@link LoggedRequestHeaders}). */
  Set<AsciiString> requestHeaderNames() {
    return requestHeaderNames;
  }

  /** Writes the entry into {@code out} (each formatting thread reuses one). */
  abstract void format(AccessLogFacts f, LineBuilder out);

  /** The entry as text. */
  public String format(AccessLogFacts f) {
    LineBuilder out = new LineBuilder();
    format(f, out);
    return out.toString();
  }

  /** A text format; the text is written as it is, so a line ends only where the format has {@code \n}. */
  public static LogFormat text(String format, boolean omitEmptyValues) {
    byte[] empty = omitEmptyValues ? new byte[0] : new byte[] {'-'};
    FormatTemplate t = FormatTemplate.parse(format);
    return new LogFormat(t.requestHeaderNames()) {
      @Override
      void format(AccessLogFacts f, LineBuilder out) {
        t.render(out, f, empty);
      }
    };
  }

  /** Each formatting thread's JSON text, reused for every entry (JSON escaping works on characters). */
  private static final io.netty.util.concurrent.FastThreadLocal<StringBuilder> JSON =
      new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected StringBuilder initialValue() {
          return new StringBuilder(512);
        }
      };

  /** A JSON dictionary, written as one line. */
  public static LogFormat json(Struct format, boolean typed, boolean omitEmptyValues, boolean sortProperties) {
    Map<String, Object> tree = compile(format, typed, sortProperties, "");
    Set<AsciiString> requestHeaders = new java.util.LinkedHashSet<>();
    collectRequestHeaders(tree.values(), requestHeaders);
    return new LogFormat(requestHeaders) {
      @Override
      void format(AccessLogFacts f, LineBuilder out) {
        StringBuilder sb = JSON.get();
        sb.setLength(0);
        writeObject(sb, tree, f, typed, omitEmptyValues);
        sb.append('\n');
        out.utf8(sb, false);
        if (sb.capacity() > LineBuilder.KEEP_AT_MOST) {
          JSON.set(new StringBuilder(512)); // one huge entry must not pin its size in a thread
        }
      }
    };
  }

  @SuppressWarnings("unchecked")
  private static void collectRequestHeaders(java.util.Collection<Object> nodes, Set<AsciiString> into) {
    for (Object node : nodes) {
      if (node instanceof FormatTemplate t) {
        into.addAll(t.requestHeaderNames());
      } else if (node instanceof Map<?, ?> m) {
        collectRequestHeaders((java.util.Collection<Object>) m.values(), into);
      } else if (node instanceof List<?> l) {
        collectRequestHeaders((java.util.Collection<Object>) l, into);
      }
    }
  }

  private static Map<String, Object> compile(Struct s, boolean typed, boolean sort, String path) {
    Map<String, Object> out = sort ? new TreeMap<>() : new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
      out.put(e.getKey(), compile(e.getValue(), typed, sort, path + "." + e.getKey()));
    }
    return out;
  }

  private static Object compile(Value v, boolean typed, boolean sort, String path) {
    switch (v.getKindCase()) {
      case STRING_VALUE -> {
        try {
          return FormatTemplate.parse(v.getStringValue());
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(path.substring(1) + ": " + e.getMessage(), e);
        }
      }
      case STRUCT_VALUE -> {
        return compile(v.getStructValue(), typed, sort, path);
      }
      case NUMBER_VALUE -> {
        double d = v.getNumberValue();
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? (Object) (long) d : (Object) d;
      }
      case BOOL_VALUE -> {
        return v.getBoolValue();
      }
      case LIST_VALUE -> {
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < v.getListValue().getValuesCount(); i++) {
          items.add(compile(v.getListValue().getValues(i), typed, sort, path + "[" + i + "]"));
        }
        return List.copyOf(items);
      }
      default -> throw new IllegalArgumentException(path.substring(1)
          + ": only strings, numbers, booleans, lists and nested objects are supported");
    }
  }

  @SuppressWarnings("unchecked")
  private static void writeObject(StringBuilder sb, Map<String, Object> tree, AccessLogFacts f, boolean typed,
      boolean omitEmpty) {
    sb.append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : tree.entrySet()) {
      int mark = sb.length();
      if (!first) {
        sb.append(',');
      }
      writeString(sb, e.getKey());
      sb.append(':');
      if (!writeValue(sb, e.getValue(), f, typed, omitEmpty)) {
        sb.setLength(mark); // omit_empty_values: a key without a value is left out
        continue;
      }
      first = false;
    }
    sb.append('}');
  }

  /** Writes one value; false when it had none and empty values are omitted. */
  @SuppressWarnings("unchecked")
  private static boolean writeValue(StringBuilder sb, Object node, AccessLogFacts f, boolean typed,
      boolean omitEmpty) {
    if (node instanceof FormatTemplate t) {
      Operator single = t.single();
      if (single != null) {
        Object v = single.value(f);
        if (v == null) {
          if (omitEmpty) {
            return false;
          }
          if (typed) {
            sb.append("null");
          } else {
            sb.append("\"-\"");
          }
        } else if (typed && !(v instanceof String)) {
          sb.append(v);
        } else {
          writeString(sb, v.toString());
        }
        return true;
      }
      StringBuilder text = new StringBuilder(64);
      t.render(text, f, omitEmpty ? "" : "-");
      writeString(sb, text.toString());
      return true;
    }
    if (node instanceof Map<?, ?> m) {
      writeObject(sb, (Map<String, Object>) m, f, typed, omitEmpty);
      return true;
    }
    if (node instanceof List<?> items) {
      sb.append('[');
      for (int i = 0; i < items.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        if (!writeValue(sb, items.get(i), f, typed, false)) {
          sb.append("null");
        }
      }
      sb.append(']');
      return true;
    }
    sb.append(node); // a literal number or boolean from the format itself
    return true;
  }

  /** A JSON string; control characters become {@code \\uXXXX}, so an entry stays on one line. */
  static void writeString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
