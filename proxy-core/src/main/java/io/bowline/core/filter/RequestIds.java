package io.bowline.core.filter;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Random version-4 UUIDs as Envoy makes them for {@code x-request-id} and {@code %UNIQUE_ID%}: from the thread's own
 * generator, so event loops share no lock (unlike {@link java.util.UUID#randomUUID()}'s SecureRandom).
 */
public final class RequestIds {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  /** A random version-4 UUID in its 36-character text form. */
  public static String uuid() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    char[] out = new char[36];
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
    return new String(out);
  }

  private static int hex(char[] out, int p, long v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      out[p + i] = HEX[(int) (v & 15)];
      v >>>= 4;
    }
    return p + digits;
  }
}
