package io.bowline.core.config;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Stats;

/** {@code listener.<address>.*} stats, resolved once per listener. */
public record ListenerStats(Counter cxTotal, Gauge cxActive, Counter noFilterChainMatch, Counter cxDestroy,
    io.bowline.core.stats.Histogram cxLengthMs) {
  public static ListenerStats of(Stats.Scope scope) {
    return new ListenerStats(scope.counter("downstream_cx_total"), scope.gauge("downstream_cx_active"),
        scope.counter("no_filter_chain_match"), scope.counter("downstream_cx_destroy"),
        scope.histogram("downstream_cx_length_ms"));
  }
}
