package io.bowline.core.transport;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Histogram;
import io.bowline.core.stats.Stats;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The byte stats one owner keeps for its connections, as Envoy's connection stats: {@code <side>_cx_rx_bytes_total}
 * and {@code <side>_cx_tx_bytes_total} (the bytes the codecs read and write: after TLS, as Envoy counts them), the
 * gauge {@code <side>_cx_tx_bytes_buffered} (what the open connections have written and their sockets not yet taken,
 * summed when stats are read, so that nothing on the data path keeps it), and for upstream connections
 * {@code upstream_cx_length_ms}. One object per stats scope, shared by every configuration that names the scope;
 * each connection counts through a {@link ByteMeter} in its pipeline.
 */
public final class ConnectionBytes implements LongSupplier {
  final Counter rx;
  final Counter tx;
  final @Nullable Histogram lengthMs;
  private final Set<ByteMeter> open = ConcurrentHashMap.newKeySet();

  private ConnectionBytes(Counter rx, Counter tx, @Nullable Histogram lengthMs) {
    this.rx = rx;
    this.tx = tx;
    this.lengthMs = lengthMs;
  }

  /** A connection manager's or TCP proxy's client connections: {@code downstream_cx_*} under {@code scope}. */
  public static ConnectionBytes downstream(Stats.Scope scope) {
    return scope.sharedComputedGauge("downstream_cx_tx_bytes_buffered",
        () -> new ConnectionBytes(scope.counter("downstream_cx_rx_bytes_total"),
            scope.counter("downstream_cx_tx_bytes_total"), null));
  }

  /** A cluster's connections to its hosts: {@code upstream_cx_*} under the cluster's scope, with their lifetimes. */
  public static ConnectionBytes upstream(Stats.Scope scope, Histogram lengthMs) {
    return scope.sharedComputedGauge("upstream_cx_tx_bytes_buffered",
        () -> new ConnectionBytes(scope.counter("upstream_cx_rx_bytes_total"),
            scope.counter("upstream_cx_tx_bytes_total"), lengthMs));
  }

  /** The handler that counts one connection's bytes; it goes right after the TLS handler, or first without one. */
  public ByteMeter meter(long startNanos) {
    return new ByteMeter(this, startNanos);
  }

  void opened(ByteMeter m) {
    open.add(m);
  }

  void closed(ByteMeter m, long lifetimeNanos) {
    if (open.remove(m) && lengthMs != null) {
      lengthMs.recordNanos(lifetimeNanos);
    }
  }

  @Override
  public long getAsLong() {
    long sum = 0;
    for (ByteMeter m : open) {
      sum += m.unsentBytes();
    }
    return sum;
  }
}
