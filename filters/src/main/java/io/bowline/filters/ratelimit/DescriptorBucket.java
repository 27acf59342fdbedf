package io.bowline.filters.ratelimit;

import io.bowline.core.router.RateLimitPolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One {@code descriptors} entry of the local rate limit: a request descriptor matches it when it has the same keys in
 * the same order and the same values, where an entry configured without a value matches any value. Such a wildcard
 * descriptor limits each distinct value on its own bucket, keeping the {@code max_dynamic_descriptors} most recently
 * used (Envoy's LRU); an exact one has a single bucket.
 */
final class DescriptorBucket {
  private final List<RateLimitPolicy.Entry> entries;
  private final TokenBucket template;
  private final boolean wildcard;
  private final @Nullable Map<List<String>, TokenBucket> dynamic;

  DescriptorBucket(List<RateLimitPolicy.Entry> entries, TokenBucket bucket, int maxDynamic) {
    this.entries = List.copyOf(entries);
    this.template = bucket;
    this.wildcard = entries.stream().anyMatch(e -> e.value().isEmpty());
    this.dynamic = wildcard ? new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<List<String>, TokenBucket> eldest) {
        return size() > maxDynamic;
      }
    } : null;
  }

  /** The bucket for a request descriptor, or null when it does not match. */
  @Nullable TokenBucket match(List<RateLimitPolicy.Entry> descriptor) {
    if (descriptor.size() != entries.size()) {
      return null;
    }
    for (int i = 0; i < entries.size(); i++) {
      RateLimitPolicy.Entry want = entries.get(i);
      RateLimitPolicy.Entry got = descriptor.get(i);
      if (!want.key().equals(got.key()) || !want.value().isEmpty() && !want.value().equals(got.value())) {
        return null;
      }
    }
    if (!wildcard) {
      return template;
    }
    List<String> values = descriptor.stream().map(RateLimitPolicy.Entry::value).toList();
    synchronized (dynamic) { // shared by every event loop; held only for the lookup
      return dynamic.computeIfAbsent(values, v -> template.copy());
    }
  }

  boolean isWildcard() {
    return wildcard;
  }

  static String text(List<RateLimitPolicy.Entry> entries) {
    StringBuilder b = new StringBuilder("[");
    for (RateLimitPolicy.Entry e : entries) {
      b.append(b.length() > 1 ? ", " : "").append(e.key()).append('=').append(e.value());
    }
    return b.append(']').toString();
  }
}
