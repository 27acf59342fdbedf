package io.bowline.core.filter;

/**
 * A network filter before the terminal one that decides whether a connection may proceed (Envoy's network RBAC,
 * network ext_authz): asked on the connection's event loop once its filter chain is chosen and its TLS handshake (if
 * any) done, before the terminal filter runs. A connection it refuses is closed. One that admits may also put a
 * handler on the connection's bytes ahead of the terminal filter (Istio's TCP metadata exchange).
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

  /**
   * A handler for an admitted connection's pipeline, placed before the terminal filter's (it sees the bytes the
   * client sends first, and writes before the terminal filter does), or null. {@code alpn}: the negotiated protocol.
   */
  default io.netty.channel.@org.jspecify.annotations.Nullable ChannelHandler handler(ConnectionInfo connection,
      @org.jspecify.annotations.Nullable String alpn) {
    return null;
  }
}
