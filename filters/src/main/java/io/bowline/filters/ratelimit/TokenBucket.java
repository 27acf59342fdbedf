package io.bowline.filters.ratelimit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Envoy's token bucket: starts full, gains {@code tokensPerFill} every {@code fillIntervalMs} up to
 * {@code maxTokens}. Lock-free: the refill is folded into the take by compare-and-set on (tokens, last fill).
 */
final class TokenBucket {
  private final long maxTokens;
  private final long tokensPerFill;
  private final long fillIntervalNanos;
  private final AtomicLong tokens;
  private final AtomicLong lastFill;

  TokenBucket(long maxTokens, long tokensPerFill, long fillIntervalMs) {
    this.maxTokens = maxTokens;
    this.tokensPerFill = tokensPerFill;
    this.fillIntervalNanos = fillIntervalMs * 1_000_000L;
    this.tokens = new AtomicLong(maxTokens);
    this.lastFill = new AtomicLong(System.nanoTime());
  }

  boolean tryTake() {
    refill();
    while (true) {
      long t = tokens.get();
      if (t <= 0) {
        return false;
      }
      if (tokens.compareAndSet(t, t - 1)) {
        return true;
      }
    }
  }

  /** A fresh, full bucket with the same settings. */
  TokenBucket copy() {
    return new TokenBucket(maxTokens, tokensPerFill, fillIntervalNanos / 1_000_000L);
  }

  long maxTokens() {
    return maxTokens;
  }

  /** Tokens gained per second: how restrictive the bucket is (Envoy checks the most restrictive first). */
  double perSecond() {
    return tokensPerFill * 1e9 / fillIntervalNanos;
  }

  /** Whole seconds until the next fill (at least 1 while one is due), for x-ratelimit-reset. */
  long secondsToNextFill() {
    long left = lastFill.get() + fillIntervalNanos - System.nanoTime();
    return Math.max(0, (left + 999_999_999L) / 1_000_000_000L);
  }

  long remaining() {
    refill();
    return tokens.get();
  }

  private void refill() {
    long now = System.nanoTime();
    long last = lastFill.get();
    long fills = (now - last) / fillIntervalNanos;
    if (fills > 0 && lastFill.compareAndSet(last, last + fills * fillIntervalNanos)) {
      tokens.accumulateAndGet(fills * tokensPerFill, (cur, add) -> Math.min(maxTokens, cur + add));
    }
  }
}
