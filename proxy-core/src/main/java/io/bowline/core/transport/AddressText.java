package io.bowline.core.transport;

import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * Addresses as Envoy prints them in access logs and header values: {@code ip:port}, IPv6 compressed and bracketed
 * ({@code [::1]:15001}), and the bare address without the port.
 */
public final class AddressText {
  private AddressText() {}

  /** {@code ip:port} ({@code [ip]:port} for IPv6); null for null. */
  public static @Nullable String of(@Nullable InetSocketAddress a) {
    if (a == null) {
      return null;
    }
    String ip = ip(a);
    return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + a.getPort() : ip + ":" + a.getPort();
  }

  /** The address without its port, IPv6 compressed ({@code ::1}, as Netty's NetUtil and Envoy print it). */
  public static String ip(InetSocketAddress a) {
    return a.getAddress() != null ? io.netty.util.NetUtil.toAddressString(a.getAddress()) : a.getHostString();
  }
}
