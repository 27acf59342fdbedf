package io.bowline.core.filter;

/**
 * A network filter before the terminal one that decides whether a connection may proceed (Envoy's network RBAC,
 * network ext_authz): asked on the connection's event loop once its filter chain is chosen and its TLS handshake (if
 * any) done, before the terminal filter runs. A connection it refuses is closed.
 */
@FunctionalInterface
public interface ConnectionGate {
  /** Decides at once. */
  boolean admit(ConnectionInfo connection);

  /**
   * Decides, possibly later (a gate that asks a service): {@code done} is called once, on {@code loop}. Meanwhile the
   * connection reads nothing more and what it already read waits for the terminal filter. The default decides at
   * once with {@link #admit}.
   */
  default void decide(ConnectionInfo connection, io.netty.channel.EventLoop loop,
      java.util.function.Consumer<Boolean> done) {
    done.accept(admit(connection));
  }
}
