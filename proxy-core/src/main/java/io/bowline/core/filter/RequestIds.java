package io.bowline.core.filter;

import java.util.concurrent.ThreadLocalRandom;

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

  private static int hex(byte[] out, int p, long v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      out[p + i] = HEX[(int) (v & 15)];
      v >>>= 4;
    }
    return p + digits;
  }
}
