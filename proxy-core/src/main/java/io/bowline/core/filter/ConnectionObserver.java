package io.bowline.core.filter;

import io.bowline.core.accesslog.AccessLogFacts;

/**
 * Watches one proxied TCP connection without touching its bytes — a network filter such as Istio's TCP stats. All
 * calls come on the connection's event loop; the facts carry cumulative byte counts.
 */
public interface ConnectionObserver {
  /** The upstream connection is up. */
  default void opened(AccessLogFacts f) {}

  /** Called every {@link ConnectionObserverProvider#reportingIntervalMs()} while the connection lives. */
  default void progress(AccessLogFacts f) {}

  /** The connection ended (also when it never reached an upstream). */
  default void closed(AccessLogFacts f) {}
}
