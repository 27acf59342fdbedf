package io.bowline.core.config;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Stats;
import org.jspecify.annotations.Nullable;

/**
 * {@code listener.<address>.*} stats, resolved once per listener; {@code ssl} ({@code listener.<address>.ssl.*}) only
 * for a listener with a TLS filter chain, as in Envoy.
 */
public record ListenerStats(Counter cxTotal, Gauge cxActive, Counter noFilterChainMatch, Counter cxDestroy,
    io.bowline.core.stats.Histogram cxLengthMs, io.bowline.core.tls.@Nullable TlsStats ssl) {
  public static ListenerStats of(Stats.Scope scope, boolean tls) {
    return new ListenerStats(scope.counter("downstream_cx_total"), scope.gauge("downstream_cx_active"),
        scope.counter("no_filter_chain_match"), scope.counter("downstream_cx_destroy"),
        scope.histogram("downstream_cx_length_ms"), tls ? io.bowline.core.tls.TlsStats.of(scope) : null);
  }
}
