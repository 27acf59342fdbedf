package io.bowline.core.filter;

import java.net.InetSocketAddress;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/** A new downstream connection as a connection gate sees it: its addresses, its TLS session and SNI. */
public record ConnectionInfo(InetSocketAddress remote, InetSocketAddress local, @Nullable SSLSession tls,
    @Nullable String serverName) {}
