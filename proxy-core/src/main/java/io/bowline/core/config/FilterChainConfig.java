package io.bowline.core.config;

import io.bowline.core.listener.FilterChainMatch;
import org.jspecify.annotations.Nullable;

/** One filter chain: when it applies, how its connections are decrypted, and what terminates them. */
public record FilterChainConfig(
    String name,
    FilterChainMatch match,
    @Nullable TlsContextSource tls,
    NetworkFilter terminal,
    java.util.List<io.bowline.core.filter.ConnectionGate> gates) {}
