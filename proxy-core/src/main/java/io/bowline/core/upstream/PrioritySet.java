package io.bowline.core.upstream;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The hosts new requests may go to, by priority, with the share of requests each priority takes: Envoy's priority
 * load. A priority's health is its available hosts (healthy by EDS and not ejected) over all its hosts, times the
 * overprovisioning factor, capped at 100%; priorities take load in order, each as much as its health (normalised by
 * the total health when that is under 100%), so a degraded priority 0 spills over to priority 1 and on. While the
 * total health is under 100%, within a priority whose available share is under {@code healthy_panic_threshold}
 * every host is used (panic); when the total health is under the threshold, every host of every priority is (total
 * panic, load by host count). Degraded hosts (EDS's DEGRADED, or an HTTP health check's x-envoy-degraded) are
 * available too, but as a tier below every priority's healthy hosts: each priority's degraded share takes only the
 * load the healthy shares leave (Envoy's degraded priority load).
 */
public final class PrioritySet {
  static final PrioritySet EMPTY = new PrioritySet(new HostSet[] {HostSet.EMPTY}, new int[] {100}, new int[] {0},
      new int[] {100}, false);

  private final HostSet[] sets;
  /** Cumulative load percentages: a draw in [0, 100) picks the first priority whose bound exceeds it. */
  private final int[] bounds;
  /** The priority number of each set, and its health (percent, overprovisioning applied), for retries. */
  private final int[] priorities;
  private final int[] health;
  /** The second half of the sets are the priorities' degraded hosts, in the same order. */
  private final boolean degradedTier;

  private PrioritySet(HostSet[] sets, int[] bounds, int[] priorities, int[] health, boolean degradedTier) {
    this.sets = sets;
    this.bounds = bounds;
    this.priorities = priorities;
    this.health = health;
    this.degradedTier = degradedTier;
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

  /**
   * Each priority's share of requests for its healthy hosts in percent, lowest priority number first (for tests and
   * the admin view).
   */
  public int[] loads() {
    int[] all = slotLoads();
    return degradedTier ? java.util.Arrays.copyOf(all, all.length / 2) : all;
  }

  /** The same for its degraded hosts: zeros when it has none. */
  public int[] degradedLoads() {
    int[] all = slotLoads();
    return degradedTier ? java.util.Arrays.copyOfRange(all, all.length / 2, all.length) : new int[all.length];
  }

  private int[] slotLoads() {
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
      if (h.priority() != 0 || !h.healthy() || h.degraded() || (ejected != null && ejected.test(h))) {
        simple = false;
        break;
      }
    }
    if (simple) {
      return new PrioritySet(new HostSet[] {all}, new int[] {100}, new int[] {0}, new int[] {100}, false);
    }
    TreeMap<Integer, List<UpstreamHost>> byPriority = new TreeMap<>();
    for (UpstreamHost h : all.hosts()) {
      byPriority.computeIfAbsent(h.priority(), p -> new ArrayList<>()).add(h);
    }
    int n = byPriority.size();
    // slot p: priority p's healthy hosts; slot n + p: its degraded ones (Envoy loads all healthy slots first)
    HostSet[] sets = new HostSet[2 * n];
    int[] health = new int[2 * n];
    List<List<UpstreamHost>> healthyOf = new ArrayList<>(n);
    List<List<UpstreamHost>> degradedOf = new ArrayList<>(n);
    int i = 0;
    int totalAvailability = 0;
    for (List<UpstreamHost> hosts : byPriority.values()) {
      List<UpstreamHost> ok = new ArrayList<>(hosts.size());
      List<UpstreamHost> degraded = new ArrayList<>(0);
      for (UpstreamHost h : hosts) {
        if (h.healthy() && (ejected == null || !ejected.test(h))) {
          (h.degraded() ? degraded : ok).add(h);
        }
      }
      healthyOf.add(ok);
      degradedOf.add(degraded);
      health[i] = (int) Math.min(100, (long) overprovisioning * ok.size() / hosts.size());
      health[n + i] = (int) Math.min(100, (long) overprovisioning * degraded.size() / hosts.size());
      totalAvailability += health[i] + health[n + i];
      i++;
    }
    i = 0;
    for (List<UpstreamHost> hosts : byPriority.values()) {
      List<UpstreamHost> ok = healthyOf.get(i);
      List<UpstreamHost> degraded = degradedOf.get(i);
      // a priority short of available hosts panics only while the priorities together are short too (Envoy)
      boolean panic = totalAvailability < 100
          && (ok.size() + degraded.size()) * 100L < (long) panicThresholdPercent * hosts.size();
      if (panic) { // either kind of load goes to every host of the priority
        sets[i] = set(hosts, weightOf);
        sets[n + i] = sets[i];
        sets[i].panic = true;
      } else {
        sets[i] = set(ok.size() == hosts.size() ? hosts : ok, weightOf);
        sets[n + i] = set(degraded, weightOf);
      }
      i++;
    }
    int normalized = Math.min(100, totalAvailability);
    int[] load = new int[2 * n];
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
      load[0] = 100; // no panic threshold and nothing available: priority 0's (empty) set, no_healthy_upstream
    } else {
      // healthy availability first, then what is left by degraded availability; rounding to the first available
      int left = 100;
      int firstAvailable = -1;
      for (int slot = 0; slot < 2 * n; slot++) {
        load[slot] = Math.min(left, health[slot] * 100 / normalized);
        left -= load[slot];
        if (firstAvailable < 0 && health[slot] > 0) {
          firstAvailable = slot;
        }
      }
      load[firstAvailable] += left;
    }
    boolean anyDegraded = false;
    for (int p = n; p < 2 * n; p++) {
      anyDegraded |= health[p] > 0;
    }
    int slots = anyDegraded ? 2 * n : n; // without degraded hosts, the priorities' healthy sets alone
    int[] bounds = new int[slots];
    int acc = 0;
    for (int slot = 0; slot < slots; slot++) {
      acc += load[slot];
      bounds[slot] = acc;
    }
    int[] numbers = new int[slots];
    int k = 0;
    for (int priority : byPriority.keySet()) {
      numbers[k] = priority;
      if (anyDegraded) {
        numbers[n + k] = priority;
      }
      k++;
    }
    return new PrioritySet(java.util.Arrays.copyOf(sets, slots), bounds, numbers,
        java.util.Arrays.copyOf(health, slots), anyDegraded);
  }
}
