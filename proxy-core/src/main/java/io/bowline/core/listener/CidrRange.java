package io.bowline.core.listener;

import java.net.InetAddress;

/** An address prefix, e.g. 10.0.0.0/8 or ::1/128. */
public record CidrRange(byte[] prefix, int length) {
  public static CidrRange of(InetAddress address, int length) {
    return new CidrRange(address.getAddress(), length);
  }

  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    byte[] p = prefix;
    if (a.length != p.length) {
      if (a.length == 4 && p.length == 16 && isV4Mapped(p)) {
        return containsBits(a, 0, p, 12, length - 96);
      }
      return false;
    }
    return containsBits(a, 0, p, 0, length);
  }

  private static boolean isV4Mapped(byte[] p) {
    for (int i = 0; i < 10; i++) {
      if (p[i] != 0) {
        return false;
      }
    }
    return p[10] == (byte) 0xff && p[11] == (byte) 0xff;
  }

  private static boolean containsBits(byte[] a, int aOff, byte[] p, int pOff, int bits) {
    if (bits < 0) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (a[aOff + i] != p[pOff + i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[aOff + full] & mask) == (p[pOff + full] & mask);
  }
}
