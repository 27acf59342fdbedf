package io.bowline.core.accesslog;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One access-log line being written as bytes, reused by its formatting thread for every entry. Text formats write
 * straight into it: literals were encoded when the format compiled, numbers go in as digits, and strings go in by
 * where they came from —
 * <ul>
 *   <li>{@link #utf8} for text bowline holds as characters (config names, details, metadata), encoded as UTF-8;
 *   <li>{@link #wire} for what a client sent (headers, path, method), which codecs hold one byte per character: the
 *       bytes are written back as they arrived, as Envoy logs them, so a UTF-8 header stays UTF-8 instead of being
 *       encoded twice.
 * </ul>
 * Both escape control characters as {@code \xNN} when asked, so one entry is always one line (HOSTILE-INPUTS HDR-08).
 */
final class LineBuilder {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  /** A line longer than this (a client's huge header) is not allowed to pin its buffer in a thread. */
  static final int KEEP_AT_MOST = 16 * 1024;

  private byte[] buf = new byte[1024];
  private int len;
  /** The last second {@link #isoMillis} wrote, and its text; a busy loop writes the same second thousands of times. */
  private long isoSecond = Long.MIN_VALUE;
  private byte[] isoText = new byte[0];

  void reset() {
    if (buf.length > KEEP_AT_MOST) {
      buf = new byte[1024];
    }
    len = 0;
  }

  int length() {
    return len;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  /** Copies the line into {@code to} at {@code at}, which has room for {@link #length()} bytes. */
  void copyTo(byte[] to, int at) {
    System.arraycopy(buf, 0, to, at, len);
  }

  /** The line as text (tests and {@link LogFormat#format(AccessLogFacts)}). */
  @Override
  public String toString() {
    return new String(buf, 0, len, StandardCharsets.UTF_8);
  }

  void bytes(byte[] b) {
    int n = b.length;
    ensure(n);
    if (n <= 8) {
      // a format's literals between operators are a byte or three: a loop, not a call to the array-copy stub
      byte[] to = buf;
      int at = len;
      for (int i = 0; i < n; i++) {
        to[at + i] = b[i];
      }
    } else {
      System.arraycopy(b, 0, buf, len, n);
    }
    len += n;
  }

  /**
   * Envoy's default {@code %START_TIME%}, ISO 8601 in UTC with three fraction digits ({@code 2024-05-01T12:00:00.123Z}),
   * as {@link StartTimeFormat} writes it: the second's text is made once and only its milliseconds change.
   */
  void isoMillis(long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    if (second != isoSecond) {
      isoText = StartTimeFormat.isoMillisUncached(second * 1000).getBytes(StandardCharsets.US_ASCII);
      isoSecond = second;
    }
    byte[] text = isoText;
    int n = text.length;
    ensure(n);
    System.arraycopy(text, 0, buf, len, n - 4);
    int ms = (int) (epochMillis - second * 1000);
    buf[len + n - 4] = (byte) ('0' + ms / 100);
    buf[len + n - 3] = PAIRS[ms % 100 * 2];
    buf[len + n - 2] = PAIRS[ms % 100 * 2 + 1];
    buf[len + n - 1] = 'Z';
    len += n;
  }

  /** "00" to "99": two digits per step. */
  private static final byte[] PAIRS = new byte[200];

  static {
    for (int i = 0; i < 100; i++) {
      PAIRS[2 * i] = (byte) ('0' + i / 10);
      PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
    }
  }

  void number(long n) {
    ensure(20);
    if (n < 0) {
      if (n == Long.MIN_VALUE) {
        bytes(Long.toString(n).getBytes(StandardCharsets.US_ASCII));
        return;
      }
      buf[len++] = '-';
      n = -n;
    }
    int end = len + digits(n);
    int at = end;
    while (n >= 100) {
      int pair = (int) (n % 100) * 2;
      n /= 100;
      buf[--at] = PAIRS[pair + 1];
      buf[--at] = PAIRS[pair];
    }
    if (n >= 10) {
      buf[--at] = PAIRS[(int) n * 2 + 1];
      buf[--at] = PAIRS[(int) n * 2];
    } else {
      buf[--at] = (byte) ('0' + n);
    }
    len = end;
  }

  private static int digits(long n) {
    int d = 1;
    for (long p = 10; d < 19 && n >= p; p *= 10) {
      d++;
    }
    return d;
  }

  /** Characters as UTF-8; control characters escaped when {@code escape}. */
  void utf8(CharSequence s, boolean escape) {
    int n = s.length();
    if (s instanceof String str && plain(str, n, 0x80, escape)) {
      copyLowBytes(str, n);
    } else {
      encode(s, escape, false);
    }
  }

  /**
   * A value a codec decoded one byte per character: characters up to U+00FF are those bytes and go back out
   * unchanged; a character above (a filter's or config's value) is written as UTF-8.
   */
  void wire(String s, boolean escape) {
    int n = s.length();
    if (plain(s, n, 0x100, escape)) {
      copyLowBytes(s, n);
    } else {
      encode(s, escape, true);
    }
  }

  /** A codec's bytes (one per character): copied as they are, unless a control character must be escaped. */
  void wire(io.netty.util.AsciiString s, boolean escape) {
    byte[] b = s.array();
    int from = s.arrayOffset();
    int n = s.length();
    if (escape) {
      for (int i = from; i < from + n; i++) {
        int c = b[i] & 0xff;
        if (c < 0x20 || c == 0x7f) {
          encode(s, true, true);
          return;
        }
      }
    }
    ensure(n);
    System.arraycopy(b, from, buf, len, n);
    len += n;
  }

  /**
   * True when every character is below {@code limit} and, if escaping, none is a control character. A scan and
   * then an array copy: measured faster than copying a character at a time, even for short values.
   */
  private static boolean plain(String s, int n, int limit, boolean escape) {
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= limit || escape && (c < 0x20 || c == 0x7f)) {
        return false;
      }
    }
    return true;
  }

  /** Bulk copy of characters all below U+0100: an array copy for the compact strings nearly every value is. */
  @SuppressWarnings("deprecation") // exactly the byte-per-char copy wanted; the replacement allocates
  private void copyLowBytes(String s, int n) {
    ensure(n);
    s.getBytes(0, n, buf, len);
    len += n;
  }

  private void encode(CharSequence s, boolean escape, boolean lowBytes) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        asciiOrEscaped(c, escape);
      } else if (lowBytes && c < 0x100) {
        ensure(1);
        buf[len++] = (byte) c;
      } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        codePoint(Character.toCodePoint(c, s.charAt(++i)));
      } else {
        codePoint(Character.isSurrogate(c) ? '?' : c); // a lone surrogate has no UTF-8 form
      }
    }
  }

  private void asciiOrEscaped(char c, boolean escape) {
    if (escape && (c < 0x20 || c == 0x7f)) {
      ensure(4);
      buf[len++] = '\\';
      buf[len++] = 'x';
      buf[len++] = HEX[c >> 4];
      buf[len++] = HEX[c & 0xf];
    } else {
      ensure(1);
      buf[len++] = (byte) c;
    }
  }

  private void codePoint(int cp) {
    ensure(4);
    if (cp < 0x80) {
      buf[len++] = (byte) cp;
    } else if (cp < 0x800) {
      buf[len++] = (byte) (0xc0 | cp >> 6);
      buf[len++] = (byte) (0x80 | cp & 0x3f);
    } else if (cp < 0x10000) {
      buf[len++] = (byte) (0xe0 | cp >> 12);
      buf[len++] = (byte) (0x80 | cp >> 6 & 0x3f);
      buf[len++] = (byte) (0x80 | cp & 0x3f);
    } else {
      buf[len++] = (byte) (0xf0 | cp >> 18);
      buf[len++] = (byte) (0x80 | cp >> 12 & 0x3f);
      buf[len++] = (byte) (0x80 | cp >> 6 & 0x3f);
      buf[len++] = (byte) (0x80 | cp & 0x3f);
    }
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }
  }
}
