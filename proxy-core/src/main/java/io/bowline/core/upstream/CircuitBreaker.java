package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.stats.Stats;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cluster's circuit breakers (the default priority's thresholds), shared by every event loop: connections open or
 * opening, requests waiting for a connection, requests in flight, retries in flight. A request over a limit fails at
 * once (503 with {@code UO} and {@code x-envoy-overloaded: true}) instead of queueing without bound.
 */
public final class CircuitBreaker implements Stats.GaugeSource {
  private static final String[] OPEN = {"cx_open", "cx_pool_open", "rq_pending_open", "rq_open", "rq_retry_open"};
  private static final String[] REMAINING = {"remaining_cx", "remaining_pending", "remaining_rq",
      "remaining_retries", "remaining_cx_pools"};

  private final ClusterConfig.Thresholds limits;
  /** Its overflows count in the cluster's traffic stats, made on first use. */
  private final Cluster cluster;
  private final AtomicInteger connections = new AtomicInteger();
  /** Connection pools in existence (max_connection_pools). */
  private final AtomicInteger pools = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger retries = new AtomicInteger();

  CircuitBreaker(ClusterConfig.Thresholds limits, Cluster cluster, Stats store, String clusterName) {
    this.limits = limits;
    this.cluster = cluster;
    Stats.Scope g = store.scope("cluster." + clusterName + ".circuit_breakers.default.");
    g.computedGauges(OPEN, this);
    if (limits.trackRemaining()) {
      g.computedGauges(REMAINING, this);
    }
  }

  /** Envoy's circuit-breaker gauges: whether each limit is reached, and with track_remaining what is left of it. */
  @Override
  public long gaugeValue(String segment) {
    return switch (segment) {
      case "cx_open" -> connections.get() >= limits.maxConnections() ? 1 : 0;
      case "cx_pool_open" -> pools.get() >= limits.maxConnectionPools() ? 1 : 0;
      case "rq_pending_open" -> pending.get() >= limits.maxPendingRequests() ? 1 : 0;
      case "rq_open" -> requests.get() >= limits.maxRequests() ? 1 : 0;
      case "rq_retry_open" -> retries.get() >= retryLimit() ? 1 : 0;
      case "remaining_cx" -> Math.max(0, limits.maxConnections() - connections.get());
      case "remaining_pending" -> Math.max(0, limits.maxPendingRequests() - pending.get());
      case "remaining_rq" -> Math.max(0, limits.maxRequests() - requests.get());
      case "remaining_retries" -> Math.max(0, retryLimit() - retries.get());
      case "remaining_cx_pools" -> Math.max(0, limits.maxConnectionPools() - pools.get());
      default -> throw new IllegalArgumentException(segment);
    };
  }

  /** A request may start (max_requests); false counts an overflow. Pair with {@link #requestDone}. */
  public boolean tryRequest() {
    if (!acquire(requests, limits.maxRequests())) {
      cluster.stats().rqPendingOverflow.inc();
      return false;
    }
    return true;
  }

  public void requestDone() {
    requests.decrementAndGet();
  }

  /**
   * How many retries may be in flight now: max_retries, or with a retry budget its share of the requests active and
   * pending, at least min_retry_concurrency (Envoy's retry budget).
   */
  long retryLimit() {
    if (limits.retryBudgetPercent() < 0) {
      return limits.maxRetries();
    }
    long share = (long) (limits.retryBudgetPercent() * (requests.get() + pending.get()) / 100.0);
    return Math.max(limits.minRetryConcurrency(), share);
  }

  /** A retry may be made (max_retries or the retry budget); false counts a retry overflow. Pair with retryDone. */
  public boolean tryRetry() {
    if (!acquire(retries, retryLimit())) {
      cluster.stats().rqRetryOverflow.inc();
      return false;
    }
    return true;
  }

  public void retryDone() {
    retries.decrementAndGet();
  }

  /** A new connection may be opened (max_connections); false counts a connection overflow. */
  boolean tryConnection() {
    if (!acquire(connections, limits.maxConnections())) {
      cluster.stats().cxOverflow.inc();
      return false;
    }
    return true;
  }

  /** A new connection pool (one host, one event loop, one protocol) may be made (max_connection_pools). */
  boolean tryConnectionPool() {
    if (!acquire(pools, limits.maxConnectionPools())) {
      cluster.stats().cxPoolOverflow.inc();
      return false;
    }
    return true;
  }

  void connectionPoolClosed() {
    pools.decrementAndGet();
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  /** A request may wait for a connection being opened (max_pending_requests). */
  boolean tryPending() {
    if (!acquire(pending, limits.maxPendingRequests())) {
      cluster.stats().rqPendingOverflow.inc();
      return false;
    }
    return true;
  }

  void pendingDone() {
    pending.decrementAndGet();
  }

  private static boolean acquire(AtomicInteger counter, long max) {
    while (true) {
      int now = counter.get();
      if (now >= max) {
        return false;
      }
      if (counter.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }
}
