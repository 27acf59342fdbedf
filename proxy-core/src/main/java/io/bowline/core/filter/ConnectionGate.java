package io.bowline.core.filter;

/**
 * A network filter before the terminal one that decides whether a connection may proceed (Envoy's network RBAC):
 * asked on the connection's event loop once its filter chain is chosen and its TLS handshake (if any) done, before
 * the terminal filter runs. A connection it refuses is closed.
 */
@FunctionalInterface
public interface ConnectionGate {
  boolean admit(ConnectionInfo connection);
}
