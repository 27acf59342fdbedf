package io.bowline.core.upstream;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's consistent-hashing load balancers, over an immutable host set (rebuilt when the set changes, cached by
 * identity): RING_HASH (xxHash64 of "ip:port_i", ring size between the configured minimum and maximum, weighted) and
 * MAGLEV (a prime-sized lookup table filled by weighted permutations). A request without a hash gets a random host.
 */
final class HashLoadBalancers {
  private HashLoadBalancers() {}

  /**
   * Tables by the host set they were built from (identity): one per priority in use, so that requests alternating
   * between priorities do not rebuild; sets replaced by membership or health changes fall out when it fills.
   */
  private static final class Tables<T> {
    private final java.util.concurrent.ConcurrentHashMap<HostSet, T> bySet = new java.util.concurrent.ConcurrentHashMap<>();

    T get(HostSet set, java.util.function.Function<List<UpstreamHost>, T> build) {
      T t = bySet.get(set);
      if (t == null) {
        if (bySet.size() >= 8) {
          bySet.clear();
        }
        t = build.apply(set.hosts());
        bySet.put(set, t);
      }
      return t;
    }
  }

  static final class RingHash implements LoadBalancer {
    private final long minRingSize;
    private final long maxRingSize;
    private final Tables<Ring> tables = new Tables<>();

    RingHash(long minRingSize, long maxRingSize) {
      this.minRingSize = minRingSize;
      this.maxRingSize = maxRingSize;
    }

    /** Sorted hashes and the host at each. */
    private record Ring(long[] hashes, UpstreamHost[] hosts) {}

    @Override
    public @Nullable UpstreamHost choose(HostSet hosts) {
      return choose(hosts, null);
    }

    @Override
    public @Nullable UpstreamHost choose(HostSet set, @Nullable Long hash) {
      if (set.isEmpty()) {
        return null;
      }
      if (hash == null) {
        return set.hosts().get(ThreadLocalRandom.current().nextInt(set.hosts().size()));
      }
      Ring ring = tables.get(set, this::build);
      long[] hashes = ring.hashes();
      int i = unsignedCeiling(hashes, hash); // the ring is ordered as unsigned values
      return ring.hosts()[i == hashes.length ? 0 : i];
    }

    private Ring build(List<UpstreamHost> hosts) {
      long totalWeight = hosts.stream().mapToLong(UpstreamHost::weight).sum();
      double minNormalized = hosts.stream().mapToDouble(h -> (double) h.weight() / totalWeight).min().orElse(1);
      // Envoy: enough entries that the lightest host gets at least one, within [min, max]
      double scale = Math.min(Math.ceil(minNormalized * minRingSize) / minNormalized, maxRingSize);
      int size = 0;
      int[] counts = new int[hosts.size()];
      double target = 0;
      long placed = 0;
      for (int i = 0; i < hosts.size(); i++) {
        target += scale * hosts.get(i).weight() / totalWeight;
        long upto = (long) Math.floor(target);
        counts[i] = (int) (upto - placed);
        placed = upto;
        size += counts[i];
      }
      long[] hashes = new long[size];
      UpstreamHost[] owners = new UpstreamHost[size];
      Long[] order = new Long[size];
      int n = 0;
      for (int i = 0; i < hosts.size(); i++) {
        String key = hosts.get(i).addressString() + "_";
        for (int j = 0; j < counts[i]; j++) {
          hashes[n] = XxHash64.hash(key + j);
          owners[n] = hosts.get(i);
          order[n] = (long) n;
          n++;
        }
      }
      Arrays.sort(order, (a, b) -> Long.compareUnsigned(hashes[a.intValue()], hashes[b.intValue()]));
      long[] sortedHashes = new long[size];
      UpstreamHost[] sortedHosts = new UpstreamHost[size];
      for (int i = 0; i < size; i++) {
        sortedHashes[i] = hashes[order[i].intValue()];
        sortedHosts[i] = owners[order[i].intValue()];
      }
      return new Ring(sortedHashes, sortedHosts);
    }

    /** The first index whose hash is >= h (unsigned), or the length. */
    private static int unsignedCeiling(long[] sorted, long h) {
      int lo = 0;
      int hi = sorted.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (Long.compareUnsigned(sorted[mid], h) < 0) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }
  }

  static final class Maglev implements LoadBalancer {
    private final int tableSize;
    private final Tables<UpstreamHost[]> tables = new Tables<>();

    Maglev(int tableSize) {
      this.tableSize = tableSize;
    }

    @Override
    public @Nullable UpstreamHost choose(HostSet hosts) {
      return choose(hosts, null);
    }

    @Override
    public @Nullable UpstreamHost choose(HostSet set, @Nullable Long hash) {
      if (set.isEmpty()) {
        return null;
      }
      if (hash == null) {
        return set.hosts().get(ThreadLocalRandom.current().nextInt(set.hosts().size()));
      }
      return tables.get(set, this::build)[(int) Long.remainderUnsigned(hash, tableSize)];
    }

    /**
     * Each host walks its own permutation (offset and skip from two hashes of its address) and claims the next
     * free slot; a host of lower weight takes its turn proportionally less often.
     */
    private UpstreamHost[] build(List<UpstreamHost> hosts) {
      int n = hosts.size();
      long[] offset = new long[n];
      long[] skip = new long[n];
      long[] next = new long[n];
      double[] weight = new double[n];
      double[] target = new double[n];
      double max = 0;
      for (int i = 0; i < n; i++) {
        byte[] key = hosts.get(i).addressString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        offset[i] = Long.remainderUnsigned(XxHash64.hash(key, 0), tableSize);
        skip[i] = Long.remainderUnsigned(XxHash64.hash(key, 1), tableSize - 1) + 1;
        weight[i] = hosts.get(i).weight();
        max = Math.max(max, weight[i]);
      }
      UpstreamHost[] table = new UpstreamHost[tableSize];
      int filled = 0;
      for (long iteration = 1; filled < tableSize; iteration++) {
        for (int i = 0; i < n && filled < tableSize; i++) {
          if (iteration * weight[i] < target[i]) {
            continue;
          }
          target[i] += max;
          int c = (int) ((offset[i] + skip[i] * next[i]) % tableSize);
          while (table[c] != null) {
            next[i]++;
            c = (int) ((offset[i] + skip[i] * next[i]) % tableSize);
          }
          table[c] = hosts.get(i);
          next[i]++;
          filled++;
        }
      }
      return table;
    }
  }
}
