package io.bowline.core.upstream;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The hosts new requests may go to, by priority, with the share of requests each priority takes: Envoy's priority
 * load. A priority's health is its available hosts (healthy by EDS and not ejected) over all its hosts, times the
 * overprovisioning factor, capped at 100%; priorities take load in order, each as much as its health (normalised by
 * the total health when that is under 100%), so a degraded priority 0 spills over to priority 1 and on. Within a
 * priority whose available share is under {@code healthy_panic_threshold}, every host is used (panic); when the
 * total health is under the threshold, every host of every priority is (total panic, load by host count).
 */
public final class PrioritySet {
  static final PrioritySet EMPTY = new PrioritySet(new HostSet[] {HostSet.EMPTY}, new int[] {100}, new int[] {0},
      new int[] {100});

  private final HostSet[] sets;
  /** Cumulative load percentages: a draw in [0, 100) picks the first priority whose bound exceeds it. */
  private final int[] bounds;
  /** The priority number of each set, and its health (percent, overprovisioning applied), for retries. */
  private final int[] priorities;
  private final int[] health;

  private PrioritySet(HostSet[] sets, int[] bounds, int[] priorities, int[] health) {
    this.sets = sets;
    this.bounds = bounds;
    this.priorities = priorities;
    this.health = health;
  }

  /**
   * The host set for a retry under previous_priorities: the priorities in {@code excluded} count as unhealthy and the
   * load is spread over the others by their health; when that leaves none, the normal load applies (Envoy).
   */
  HostSet pickExcluding(int draw, java.util.Set<Integer> excluded) {
    int total = 0;
    for (int i = 0; i < sets.length; i++) {
      if (!excluded.contains(priorities[i])) {
        total += health[i];
      }
    }
    if (total == 0) {
      return pick(draw);
    }
    int acc = 0;
    HostSet last = null;
    for (int i = 0; i < sets.length; i++) {
      if (excluded.contains(priorities[i]) || health[i] == 0) {
        continue;
      }
      acc += health[i] * 100 / total;
      last = sets[i];
      if (draw < acc) {
        return sets[i];
      }
    }
    return last;
  }

  private static HostSet set(List<UpstreamHost> hosts,
      java.util.function.@Nullable ToIntFunction<UpstreamHost> weightOf) {
    if (weightOf == null) {
      return new HostSet(hosts);
    }
    int[] w = new int[hosts.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = weightOf.applyAsInt(hosts.get(i));
    }
    return new HostSet(hosts, w);
  }

  /** The host set of the priority a draw in [0, 100) falls into. */
  HostSet pick(int draw) {
    for (int i = 0; i < bounds.length - 1; i++) {
      if (draw < bounds[i]) {
        return sets[i];
      }
    }
    return sets[sets.length - 1];
  }

  /** Priority 0's host set, or null when the cluster has no priority-0 hosts. */
  @Nullable HostSet priorityZero() {
    return priorities[0] == 0 ? sets[0] : null;
  }

  /** Whether one priority takes every request (no draw needed). */
  boolean single() {
    return sets.length == 1;
  }

  /** Each priority's share of requests in percent, lowest priority number first (for tests and the admin view). */
  public int[] loads() {
    int[] out = new int[bounds.length];
    for (int i = 0; i < bounds.length; i++) {
      out[i] = bounds[i] - (i == 0 ? 0 : bounds[i - 1]);
    }
    return out;
  }

  /**
   * Builds the set from all of a cluster's hosts. {@code ejected} says which hosts outlier detection holds out (null:
   * none), {@code overprovisioning} is the load assignment's factor in percent.
   */
  static PrioritySet of(HostSet all, java.util.function.@Nullable Predicate<UpstreamHost> ejected,
      int overprovisioning, int panicThresholdPercent) {
    return of(all, ejected, overprovisioning, panicThresholdPercent, null);
  }

  /** The same, with each host's effective weight from {@code weightOf} (slow start), null for its own weight. */
  static PrioritySet of(HostSet all, java.util.function.@Nullable Predicate<UpstreamHost> ejected,
      int overprovisioning, int panicThresholdPercent,
      java.util.function.@Nullable ToIntFunction<UpstreamHost> weightOf) {
    boolean simple = weightOf == null;
    for (UpstreamHost h : all.hosts()) {
      if (h.priority() != 0 || !h.healthy() || (ejected != null && ejected.test(h))) {
        simple = false;
        break;
      }
    }
    if (simple) {
      return new PrioritySet(new HostSet[] {all}, new int[] {100}, new int[] {0}, new int[] {100});
    }
    TreeMap<Integer, List<UpstreamHost>> byPriority = new TreeMap<>();
    for (UpstreamHost h : all.hosts()) {
      byPriority.computeIfAbsent(h.priority(), p -> new ArrayList<>()).add(h);
    }
    int n = byPriority.size();
    HostSet[] sets = new HostSet[n];
    int[] health = new int[n];
    int i = 0;
    int totalHealth = 0;
    for (List<UpstreamHost> hosts : byPriority.values()) {
      List<UpstreamHost> ok = new ArrayList<>(hosts.size());
      for (UpstreamHost h : hosts) {
        if (h.healthy() && (ejected == null || !ejected.test(h))) {
          ok.add(h);
        }
      }
      health[i] = (int) Math.min(100, (long) overprovisioning * ok.size() / hosts.size());
      totalHealth += health[i];
      boolean panic = ok.size() * 100L < (long) panicThresholdPercent * hosts.size();
      sets[i] = set(ok.size() == hosts.size() || panic ? hosts : ok, weightOf);
      sets[i].panic = panic;
      i++;
    }
    int normalized = Math.min(100, totalHealth);
    int[] load = new int[n];
    if (normalized < panicThresholdPercent) {
      // total panic: every host of every priority, each priority loaded by its share of all hosts (Envoy)
      int left = 100;
      int p = 0;
      for (List<UpstreamHost> hosts : byPriority.values()) {
        sets[p] = set(hosts, weightOf);
        sets[p].panic = true;
        load[p] = Math.min(left, hosts.size() * 100 / all.hosts().size());
        left -= load[p];
        p++;
      }
      load[0] += left;
    } else if (normalized == 0) {
      load[0] = 100; // no panic threshold and nothing healthy: priority 0's (empty) set, no_healthy_upstream
    } else {
      int left = 100;
      int firstHealthy = -1;
      for (int p = 0; p < n; p++) {
        load[p] = Math.min(left, health[p] * 100 / normalized);
        left -= load[p];
        if (firstHealthy < 0 && health[p] > 0) {
          firstHealthy = p;
        }
      }
      load[firstHealthy] += left; // rounding, as Envoy assigns it
    }
    int[] bounds = new int[n];
    int acc = 0;
    for (int p = 0; p < n; p++) {
      acc += load[p];
      bounds[p] = acc;
    }
    int[] numbers = new int[n];
    int k = 0;
    for (int priority : byPriority.keySet()) {
      numbers[k++] = priority;
    }
    return new PrioritySet(sets, bounds, numbers, health);
  }
}
