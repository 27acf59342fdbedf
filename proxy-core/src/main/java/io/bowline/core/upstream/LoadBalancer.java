package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/** Picks a host for a request. Implementations are shared by all event loops and lock-free. */
public interface LoadBalancer {
  @Nullable UpstreamHost choose(HostSet hosts);

  /** With the request's hash policy result (null: none); only the consistent-hashing balancers use it. */
  default @Nullable UpstreamHost choose(HostSet hosts, @Nullable Long hash) {
    return choose(hosts);
  }

  static LoadBalancer of(ClusterConfig config) {
    return switch (config.lbPolicy()) {
      case ROUND_ROBIN, CLUSTER_PROVIDED -> new RoundRobin(); // ORIGINAL_DST: the request names its host
      case LEAST_REQUEST -> new LeastRequest(config.leastRequestChoiceCount(), config.activeRequestBias());
      case RANDOM -> new Random();
      case RING_HASH -> new HashLoadBalancers.RingHash(config.ringMinSize(), config.ringMaxSize());
      case MAGLEV -> new HashLoadBalancers.Maglev(config.maglevTableSize());
    };
  }

  /** ROUND_ROBIN, weighted by the host set's schedule. */
  final class RoundRobin implements LoadBalancer {
    private final AtomicLong next = new AtomicLong(ThreadLocalRandom.current().nextInt(1 << 16));

    public @Nullable UpstreamHost choose(HostSet hosts) {
      return hosts.isEmpty() ? null : hosts.scheduled(next.getAndIncrement());
    }
  }

  /**
   * LEAST_REQUEST: the best of {@code choiceCount} random picks (power of two choices by default), scored as Envoy
   * weighs hosts, effective weight / (active requests + 1)^{@code active_request_bias}; with equal weights that is
   * the one with fewer requests in flight.
   */
  final class LeastRequest implements LoadBalancer {
    private final int choiceCount;
    private final double bias;

    LeastRequest(int choiceCount, double bias) {
      this.choiceCount = Math.max(2, choiceCount);
      this.bias = bias;
    }

    public @Nullable UpstreamHost choose(HostSet set) {
      var hosts = set.hosts();
      if (hosts.isEmpty()) {
        return null;
      }
      if (hosts.size() == 1) {
        return hosts.get(0);
      }
      ThreadLocalRandom rnd = ThreadLocalRandom.current();
      UpstreamHost best = null;
      double bestScore = Double.MAX_VALUE;
      for (int i = 0; i < choiceCount; i++) {
        int at = rnd.nextInt(hosts.size());
        UpstreamHost h = hosts.get(at);
        double active = h.activeRequests() + 1.0;
        double score = (bias == 1.0 ? active : Math.pow(active, bias)) / set.weightAt(at);
        if (score < bestScore) {
          best = h;
          bestScore = score;
        }
      }
      return best;
    }
  }

  /** RANDOM. */
  final class Random implements LoadBalancer {
    public @Nullable UpstreamHost choose(HostSet hosts) {
      return hosts.isEmpty() ? null : hosts.hosts().get(ThreadLocalRandom.current().nextInt(hosts.hosts().size()));
    }
  }
}
