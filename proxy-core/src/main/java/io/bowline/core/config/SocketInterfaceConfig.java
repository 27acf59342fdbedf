package io.bowline.core.config;

/**
 * The socket layer the bootstrap asks for: Envoy's default socket interface, with io_uring when its
 * {@code io_uring_options} are set ({@code ringSize} 0: Netty's default size).
 */
public record SocketInterfaceConfig(boolean ioUring, int ringSize) {
  /** No {@code bootstrap_extensions} socket interface: epoll, as Envoy. */
  public static final SocketInterfaceConfig DEFAULT = new SocketInterfaceConfig(false, 0);
}
