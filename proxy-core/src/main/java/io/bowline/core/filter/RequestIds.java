package io.bowline.core.filter;

import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Random version-4 UUIDs as Envoy makes them for {@code x-request-id} and {@code %UNIQUE_ID%}: from the thread's own
 * generator, so event loops share no lock (unlike {@link java.util.UUID#randomUUID()}'s SecureRandom).
 */
public final class RequestIds {
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private RequestIds() {}

  /** A random version-4 UUID in its 36-character text form. */
  public static String uuid() {
    return uuidAscii().toString();
  }

  /**
   * The same as bytes, as a header value: one 36-byte array, no String (a String is made only if something reads
   * the header as one).
   */
  public static io.netty.util.AsciiString uuidAscii() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    byte[] out = new byte[36];
    int p = 0;
    p = hex(out, p, hi >>> 32, 8);
    out[p++] = '-';
    p = hex(out, p, hi >>> 16, 4);
    out[p++] = '-';
    p = hex(out, p, hi, 4);
    out[p++] = '-';
    p = hex(out, p, lo >>> 48, 4);
    out[p++] = '-';
    hex(out, p, lo, 12);
    return new io.netty.util.AsciiString(out, false);
  }

  /**
   * Envoy's number for a request id (its UUID extension's {@code getInteger}): the first eight characters read as
   * hex, or -1 when the id is shorter or they are not hex. Tracing samples by it modulo 10,000, runtime filters modulo
   * their denominator, so every proxy on a request's way draws the same.
   */
  public static long integer(@Nullable CharSequence id) {
    if (id == null || id.length() < 8) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      int d = Character.digit(id.charAt(i), 16);
      if (d < 0) {
        return -1;
      }
      v = v << 4 | d;
    }
    return v;
  }

  /** Where a UUID request id carries its trace reason ({@code pack_trace_reason}): the version digit. */
  private static final int TRACE_REASON_AT = 14;
  private static final int UUID_LENGTH = 36;

  /**
   * The trace reason a request id carries (Envoy's {@code pack_trace_reason}): the version digit of a 36-character
   * id is {@code 9} when a proxy sampled the request, {@code a} when forced by {@code x-envoy-force-trace}, {@code b}
   * by a client's {@code x-client-trace-id}; anything else (a fresh id's {@code 4}) is not traced.
   */
  public static TraceReason traceReason(@Nullable CharSequence id) {
    if (id == null || id.length() != UUID_LENGTH) {
      return TraceReason.NOT_TRACEABLE;
    }
    return switch (id.charAt(TRACE_REASON_AT)) {
      case '9' -> TraceReason.SAMPLING;
      case 'a' -> TraceReason.SERVICE_FORCED;
      case 'b' -> TraceReason.CLIENT_FORCED;
      default -> TraceReason.NOT_TRACEABLE;
    };
  }

  /**
   * The id with {@code reason} packed into it, or the id itself when it is not a 36-character one or already says so
   * (clearing a reason writes a version-4 digit; a digit that is no reason stays).
   */
  public static CharSequence withTraceReason(CharSequence id, TraceReason reason) {
    if (id.length() != UUID_LENGTH) {
      return id;
    }
    char now = id.charAt(TRACE_REASON_AT);
    char mark = switch (reason) {
      case SAMPLING -> '9';
      case SERVICE_FORCED -> 'a';
      case CLIENT_FORCED -> 'b';
      case NOT_TRACEABLE -> now == '9' || now == 'a' || now == 'b' ? '4' : now;
    };
    if (mark == now) {
      return id;
    }
    byte[] b = new byte[UUID_LENGTH];
    for (int i = 0; i < UUID_LENGTH; i++) {
      b[i] = (byte) id.charAt(i); // a header value: one byte per character
    }
    b[TRACE_REASON_AT] = (byte) mark;
    return new io.netty.util.AsciiString(b, false);
  }

  /** Why a request is traced, as Envoy records it in the request id. */
  public enum TraceReason { NOT_TRACEABLE, SAMPLING, SERVICE_FORCED, CLIENT_FORCED }

  private static int hex(byte[] out, int p, long v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      out[p + i] = HEX[(int) (v & 15)];
      v >>>= 4;
    }
    return p + digits;
  }
}
