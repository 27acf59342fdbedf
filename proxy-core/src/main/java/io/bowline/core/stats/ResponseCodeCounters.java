package io.bowline.core.stats;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Envoy's response counters under one prefix: by class ({@code upstream_rq_2xx}) and by exact code
 * ({@code upstream_rq_200}); the class counters are resolved up front, each code's on its first response.
 */
public final class ResponseCodeCounters {
  private final Stats.Scope scope;
  private final String prefix;
  private final Counter[] classes = new Counter[5];
  private volatile @org.jspecify.annotations.Nullable AtomicReferenceArray<Counter> byCode;

  /** {@code prefix} as in {@code "upstream_rq_"}. */
  public ResponseCodeCounters(Stats.Scope scope, String prefix) {
    this.scope = scope;
    this.prefix = prefix;
    for (int i = 0; i < 5; i++) {
      classes[i] = scope.counter(prefix + (i + 1) + "xx");
    }
  }

  /** The class counter of {@code 1xx} .. {@code 5xx} (1 to 5). */
  public Counter ofClass(int hundreds) {
    return classes[hundreds - 1];
  }

  public void count(int status) {
    int cls = status / 100;
    classes[cls >= 1 && cls <= 5 ? cls - 1 : 4].inc();
    if (status < 100 || status >= 600) {
      return;
    }
    AtomicReferenceArray<Counter> codes = byCode;
    if (codes == null) {
      synchronized (this) {
        codes = byCode;
        if (codes == null) {
          codes = new AtomicReferenceArray<>(600);
          byCode = codes;
        }
      }
    }
    Counter c = codes.get(status);
    if (c == null) {
      c = scope.counter(prefix + status);
      codes.set(status, c);
    }
    c.inc();
  }
}
