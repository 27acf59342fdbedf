package io.bowline.core.config;

import io.bowline.core.listener.FilterChainSelector;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A listener: its socket address, its filter chains (selected per connection by {@link FilterChainSelector}) and the
 * listener filters that inspect a connection's first bytes before the selection.
 */
public record ListenerConfig(
    String name,
    InetSocketAddress address,
    List<FilterChainConfig> filterChains,
    FilterChainSelector selector,
    boolean tlsInspector,
    boolean httpInspector,
    int perConnectionBufferLimitBytes,
    long listenerFiltersTimeoutMs,
    boolean continueOnListenerFiltersTimeout,
    /** The destination ports on which each inspector is off ({@code filter_disabled}). */
    java.util.function.IntPredicate tlsInspectorOff,
    java.util.function.IntPredicate httpInspectorOff,
    ListenerStats stats,
    List<io.bowline.core.accesslog.AccessLogger> accessLogs) {

  public ListenerConfig {
    filterChains = List.copyOf(filterChains);
    accessLogs = List.copyOf(accessLogs);
  }
}
