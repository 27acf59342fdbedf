package io.bowline.xds.ads;

import java.util.concurrent.ThreadLocalRandom;

/** Envoy's reconnect backoff for xDS: exponential from 0.5 s to 30 s with full jitter, reset once a response arrives. */
final class Backoff {
  private final long baseMs;
  private final long maxMs;
  private int attempt;

  Backoff(long baseMs, long maxMs) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** The delay before the next attempt: uniform in [0, min(max, base * 2^attempt)), at least 1 ms. */
  long nextDelayMs() {
    long ceiling = Math.min(maxMs, baseMs << Math.min(attempt, 20));
    attempt++;
    return Math.max(1, ThreadLocalRandom.current().nextLong(Math.max(1, ceiling)));
  }

  void reset() {
    attempt = 0;
  }
}
