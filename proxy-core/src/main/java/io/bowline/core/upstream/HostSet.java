package io.bowline.core.upstream;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An immutable set of a cluster's hosts, with their effective weights (the configured ones, or as slow start scales
 * them) and a weighted round-robin schedule precomputed from them (smooth weighted round robin, so weights 5:1:1
 * interleave as a,a,b,a,c,a,a rather than in bursts).
 */
public final class HostSet {
  public static final HostSet EMPTY = new HostSet(List.of());
  private static final int MAX_SCHEDULE = 4096;

  private final List<UpstreamHost> hosts;
  private final int[] weights;
  private final UpstreamHost[] schedule;
  /**
   * Its priority is in panic: too few of its hosts are healthy, so all of them take requests (Envoy's
   * {@code lb_healthy_panic} counts each pick from such a set). Set once, before the set is published.
   */
  boolean panic;

  public HostSet(List<UpstreamHost> hosts) {
    this(hosts, null);
  }

  /** {@code weights}: each host's effective weight, in the order of {@code hosts}; null for their own weights. */
  HostSet(List<UpstreamHost> hosts, int @Nullable [] weights) {
    this.hosts = List.copyOf(hosts);
    if (weights == null) {
      weights = new int[this.hosts.size()];
      for (int i = 0; i < weights.length; i++) {
        weights[i] = this.hosts.get(i).weight();
      }
    }
    this.weights = weights;
    this.schedule = buildSchedule(this.hosts, weights);
  }

  public List<UpstreamHost> hosts() {
    return hosts;
  }

  public boolean isEmpty() {
    return hosts.isEmpty();
  }

  /** The effective weight of the host at {@code i}. */
  int weightAt(int i) {
    return weights[i];
  }

  UpstreamHost scheduled(long n) {
    return schedule[(int) Long.remainderUnsigned(n, schedule.length)];
  }

  /**
   * The round-robin order. Weights whose sum exceeds the schedule's size are scaled down to fit (each host keeps at
   * least one slot), so large weighted sets stay weighted rather than falling back to plain rotation.
   */
  private static UpstreamHost[] buildSchedule(List<UpstreamHost> hosts, int[] weights) {
    if (hosts.isEmpty()) {
      return new UpstreamHost[0];
    }
    boolean equal = true;
    long total = 0;
    for (int w : weights) {
      equal &= w == weights[0];
      total += w;
    }
    if (equal) {
      return hosts.toArray(new UpstreamHost[0]);
    }
    long[] w = new long[weights.length];
    if (total > MAX_SCHEDULE) {
      double scale = (double) Math.max(MAX_SCHEDULE, hosts.size()) / total;
      total = 0;
      for (int i = 0; i < w.length; i++) {
        w[i] = Math.max(1, Math.round(weights[i] * scale));
        total += w[i];
      }
    } else {
      for (int i = 0; i < w.length; i++) {
        w[i] = weights[i];
      }
    }
    UpstreamHost[] out = new UpstreamHost[(int) total];
    long[] current = new long[hosts.size()];
    for (int slot = 0; slot < out.length; slot++) {
      int best = 0;
      for (int i = 0; i < hosts.size(); i++) {
        current[i] += w[i];
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
