package io.bowline.core.listener;

import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What filter-chain selection knows about a new connection: its addresses, and what the listener filters found
 * (SNI and ALPN from a TLS ClientHello; "tls" or "raw_buffer"; "http/1.1" or "h2c" from the first bytes).
 */
public record ConnectionFacts(
    InetSocketAddress local,
    InetSocketAddress remote,
    @Nullable String serverName,
    String transportProtocol,
    List<String> applicationProtocols) {}
