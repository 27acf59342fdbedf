package io.bowline.core.listener;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code filter_chain_match}, compiled. Empty lists and a null port or protocol mean "any".
 */
public record FilterChainMatch(
    @Nullable Integer destinationPort,
    List<CidrRange> prefixRanges,
    List<String> serverNames,
    @Nullable String transportProtocol,
    List<String> applicationProtocols,
    List<CidrRange> sourcePrefixRanges,
    List<Integer> sourcePorts) {

  public static final FilterChainMatch ANY =
      new FilterChainMatch(null, List.of(), List.of(), null, List.of(), List.of(), List.of());

  public FilterChainMatch {
    prefixRanges = List.copyOf(prefixRanges);
    serverNames = List.copyOf(serverNames);
    applicationProtocols = List.copyOf(applicationProtocols);
    sourcePrefixRanges = List.copyOf(sourcePrefixRanges);
    sourcePorts = List.copyOf(sourcePorts);
  }

  /** Whether the selection needs the TLS ClientHello or the first bytes of the connection. */
  public boolean needsInspection() {
    return !serverNames.isEmpty() || transportProtocol != null || !applicationProtocols.isEmpty();
  }
}
