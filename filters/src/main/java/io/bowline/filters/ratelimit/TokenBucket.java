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
