package io.bowline.core.accesslog;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * {@code %START_TIME%} and {@code %START_TIME(format)%}: Envoy's default is ISO 8601 in UTC with milliseconds
 * ({@code 2024-05-01T12:00:00.123Z}); a format is strftime's, plus Envoy's {@code %s} (epoch seconds),
 * {@code %Nf} (N digits of the second's fraction; {@code %f} all nine) and {@code %ENS} (seconds with N fraction
 * digits). Times are UTC. Compiled once into pieces; unknown conversions are refused when the format is compiled.
 */
final class StartTimeFormat {
  private final List<Object> pieces; // String literals and Character/Integer-coded conversions
  private final boolean iso;

  private StartTimeFormat(List<Object> pieces, boolean iso) {
    this.pieces = pieces;
    this.iso = iso;
  }

  static StartTimeFormat of(@Nullable String format) {
    if (format == null || format.isEmpty()) {
      return new StartTimeFormat(List.of(), true);
    }
    List<Object> pieces = new ArrayList<>();
    StringBuilder lit = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        lit.append(c);
        continue;
      }
      char k = format.charAt(++i);
      Conversion conv;
      if (k >= '1' && k <= '9' && i + 1 < format.length() && format.charAt(i + 1) == 'f') {
        conv = new Conversion('f', k - '0');
        i++;
      } else if (k == 'E' && i + 2 < format.length() && format.charAt(i + 2) == 'S') {
        char d = format.charAt(i + 1);
        conv = new Conversion('S', d == '*' ? 9 : d >= '0' && d <= '9' ? d - '0' : -1);
        if (conv.digits < 0) {
          throw new IllegalArgumentException("START_TIME: unsupported conversion %E" + d + "S");
        }
        i += 2;
      } else if (k == '%') {
        lit.append('%');
        continue;
      } else if ("YymdeHIMSpjaAbhBzZTFDRntsfuw".indexOf(k) >= 0) {
        conv = new Conversion(k, k == 'f' ? 9 : 0);
      } else {
        throw new IllegalArgumentException("START_TIME: unsupported conversion %" + k);
      }
      if (lit.length() > 0) {
        pieces.add(lit.toString());
        lit.setLength(0);
      }
      pieces.add(conv);
    }
    if (lit.length() > 0) {
      pieces.add(lit.toString());
    }
    return new StartTimeFormat(List.copyOf(pieces), false);
  }

  private record Conversion(char kind, int digits) {}

  String format(long epochMillis) {
    if (iso) {
      return isoMillis(epochMillis);
    }
    ZonedDateTime t = ZonedDateTime.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC);
    long nanosOfSecond = (epochMillis % 1000 + 1000) % 1000 * 1_000_000L;
    StringBuilder sb = new StringBuilder(32);
    for (Object p : pieces) {
      if (p instanceof String s) {
        sb.append(s);
        continue;
      }
      Conversion c = (Conversion) p;
      switch (c.kind()) {
        case 'Y' -> sb.append(t.getYear());
        case 'y' -> pad(sb, t.getYear() % 100, 2);
        case 'm' -> pad(sb, t.getMonthValue(), 2);
        case 'd' -> pad(sb, t.getDayOfMonth(), 2);
        case 'e' -> sb.append(t.getDayOfMonth() < 10 ? " " : "").append(t.getDayOfMonth());
        case 'H' -> pad(sb, t.getHour(), 2);
        case 'I' -> pad(sb, t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2);
        case 'M' -> pad(sb, t.getMinute(), 2);
        case 'S' -> {
          pad(sb, t.getSecond(), 2);
          if (c.digits() > 0) {
            sb.append('.');
            fraction(sb, nanosOfSecond, c.digits());
          }
        }
        case 'f' -> fraction(sb, nanosOfSecond, c.digits());
        case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
        case 'j' -> pad(sb, t.getDayOfYear(), 3);
        case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ROOT));
        case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ROOT));
        case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ROOT));
        case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ROOT));
        case 'u' -> sb.append(t.getDayOfWeek().getValue());
        case 'w' -> sb.append(t.getDayOfWeek().getValue() % 7);
        case 'z' -> sb.append("+0000");
        case 'Z' -> sb.append("UTC");
        case 'T' -> {
          pad(sb, t.getHour(), 2);
          pad(sb.append(':'), t.getMinute(), 2);
          pad(sb.append(':'), t.getSecond(), 2);
        }
        case 'R' -> {
          pad(sb, t.getHour(), 2);
          pad(sb.append(':'), t.getMinute(), 2);
        }
        case 'F' -> {
          sb.append(t.getYear());
          pad(sb.append('-'), t.getMonthValue(), 2);
          pad(sb.append('-'), t.getDayOfMonth(), 2);
        }
        case 'D' -> {
          pad(sb, t.getMonthValue(), 2);
          pad(sb.append('/'), t.getDayOfMonth(), 2);
          pad(sb.append('/'), t.getYear() % 100, 2);
        }
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 's' -> sb.append(Math.floorDiv(epochMillis, 1000));
        default -> throw new IllegalStateException("compiled conversion " + c.kind());
      }
    }
    return sb.toString();
  }

  /** Each formatting thread's last ISO time: its second's prefix, and the whole text of its last millisecond. */
  private static final class LastIso {
    long second = Long.MIN_VALUE;
    String prefix = "";
    long millis = Long.MIN_VALUE;
    String text = "";
  }

  private static final io.netty.util.concurrent.FastThreadLocal<LastIso> LAST_ISO =
      new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected LastIso initialValue() {
          return new LastIso();
        }
      };

  /**
   * ISO 8601 with exactly three fraction digits, as Envoy prints it even on a whole second. A busy event loop ends
   * dozens of requests in the same millisecond: they share one string.
   */
  private static String isoMillis(long epochMillis) {
    LastIso last = LAST_ISO.get();
    if (last.millis == epochMillis) {
      return last.text;
    }
    long second = Math.floorDiv(epochMillis, 1000);
    if (last.second != second) {
      String full = isoMillisUncached(second * 1000);
      last.prefix = full.substring(0, full.length() - 4); // "2024-05-01T12:00:00." without "000Z"
      last.second = second;
    }
    int ms = (int) Math.floorMod(epochMillis, 1000L);
    StringBuilder sb = new StringBuilder(24).append(last.prefix);
    if (ms < 100) {
      sb.append(ms < 10 ? "00" : "0");
    }
    last.millis = epochMillis;
    last.text = sb.append(ms).append('Z').toString();
    return last.text;
  }

  static String isoMillisUncached(long epochMillis) {
    ZonedDateTime t = ZonedDateTime.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC);
    StringBuilder sb = new StringBuilder(24);
    sb.append(t.getYear());
    pad(sb.append('-'), t.getMonthValue(), 2);
    pad(sb.append('-'), t.getDayOfMonth(), 2);
    pad(sb.append('T'), t.getHour(), 2);
    pad(sb.append(':'), t.getMinute(), 2);
    pad(sb.append(':'), t.getSecond(), 2);
    pad(sb.append('.'), (int) Math.floorMod(epochMillis, 1000L), 3);
    return sb.append('Z').toString();
  }

  private static void pad(StringBuilder sb, int v, int width) {
    String s = Integer.toString(v);
    for (int i = s.length(); i < width; i++) {
      sb.append('0');
    }
    sb.append(s);
  }

  private static void fraction(StringBuilder sb, long nanosOfSecond, int digits) {
    String s = Long.toString(1_000_000_000L + nanosOfSecond).substring(1);
    sb.append(s, 0, Math.min(digits, 9));
  }
}
