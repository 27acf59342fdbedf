package io.bowline.core.upstream;

import java.util.List;

/**
 * An immutable set of a cluster's hosts, with its weighted round-robin schedule precomputed (smooth weighted
 * round robin, so weights 5:1:1 interleave as a,a,b,a,c,a,a rather than in bursts).
 */
public final class HostSet {
  public static final HostSet EMPTY = new HostSet(List.of());
  private static final int MAX_SCHEDULE = 4096;

  private final List<UpstreamHost> hosts;
  private final UpstreamHost[] schedule;

  public HostSet(List<UpstreamHost> hosts) {
    this.hosts = List.copyOf(hosts);
    this.schedule = buildSchedule(this.hosts);
  }

  public List<UpstreamHost> hosts() {
    return hosts;
  }

  public boolean isEmpty() {
    return hosts.isEmpty();
  }

  UpstreamHost scheduled(long n) {
    return schedule[(int) Long.remainderUnsigned(n, schedule.length)];
  }

  private static UpstreamHost[] buildSchedule(List<UpstreamHost> hosts) {
    if (hosts.isEmpty()) {
      return new UpstreamHost[0];
    }
    boolean equal = hosts.stream().allMatch(h -> h.weight() == hosts.get(0).weight());
    long total = hosts.stream().mapToLong(UpstreamHost::weight).sum();
    if (equal || total > MAX_SCHEDULE) {
      return hosts.toArray(new UpstreamHost[0]);
    }
    UpstreamHost[] out = new UpstreamHost[(int) total];
    long[] current = new long[hosts.size()];
    for (int slot = 0; slot < out.length; slot++) {
      int best = 0;
      for (int i = 0; i < hosts.size(); i++) {
        current[i] += hosts.get(i).weight();
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      out[slot] = hosts.get(best);
    }
    return out;
  }
}
