package io.bowline.core.upstream;

import io.bowline.core.config.HealthCheckConfig;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Stats;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's active health checking for one cluster: every host is probed on its own schedule, all on one event loop.
 * A host starts failed and pending; one passing check makes it healthy, after which {@code unhealthy_threshold}
 * network failures in a row (or one wrong answer) make it unhealthy and {@code healthy_threshold} passes in a row
 * make it healthy again. A host failing active health checks takes no new requests, like one EDS calls unhealthy.
 */
final class HealthChecker {
  private static final Logger logger = LoggerFactory.getLogger(HealthChecker.class);

  /** How one check ended. */
  /** DEGRADED: passed, with Envoy's {@code x-envoy-degraded} in the answer. */
  enum Result { SUCCESS, DEGRADED, FAILURE, NETWORK_FAILURE }

  private final Cluster cluster;
  private final HealthCheckConfig config;
  private final EventLoop loop;
  private final Counter attempt;
  private final Counter success;
  private final Counter failure;
  private final Counter networkFailure;
  private final Gauge healthy;
  private final Gauge degraded;
  /** The hosts being checked; confined to {@link #loop}. */
  private final Map<UpstreamHost, HostCheck> checks = new HashMap<>();
  private boolean stopped;

  HealthChecker(Cluster cluster, HealthCheckConfig config, EventLoop loop, Stats.Scope stats) {
    this.cluster = cluster;
    this.config = config;
    this.loop = loop;
    Stats.Scope s = stats.scope("health_check.");
    attempt = s.counter("attempt");
    success = s.counter("success");
    failure = s.counter("failure");
    networkFailure = s.counter("network_failure");
    healthy = s.gauge("healthy");
    degraded = s.gauge("degraded");
  }

  /** The cluster's hosts changed (or are first known): new ones start pending, removed ones stop being checked. */
  void hostsChanged(List<UpstreamHost> hosts) {
    for (UpstreamHost h : hosts) {
      if (!h.healthCheck().disabled()) {
        h.activeHealthPending(); // before any request sees it, as Envoy adds hosts failed until their first check
      }
    }
    loop.execute(() -> {
      if (stopped) {
        return;
      }
      java.util.Set<UpstreamHost> now = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      now.addAll(hosts);
      checks.entrySet().removeIf(e -> {
        if (!now.contains(e.getKey())) {
          e.getValue().close();
          return true;
        }
        return false;
      });
      for (UpstreamHost h : hosts) {
        if (!checks.containsKey(h) && !h.healthCheck().disabled()) {
          HostCheck c = new HostCheck(h);
          checks.put(h, c);
          c.schedule(config.initialJitterMs() > 0 ? ThreadLocalRandom.current().nextLong(config.initialJitterMs() + 1)
              : 0);
        }
      }
      updateHealthyGauge();
    });
  }

  void stop() {
    loop.execute(() -> {
      stopped = true;
      checks.values().forEach(HostCheck::close);
      checks.clear();
    });
  }

  private void updateHealthyGauge() {
    long n = 0;
    long d = 0;
    for (UpstreamHost h : checks.keySet()) {
      if (!h.activeHealthFailed()) {
        n++;
        d += h.activeDegraded() ? 1 : 0;
      }
    }
    healthy.set(n);
    degraded.set(d);
  }

  /** One host's checks: its consecutive results and its next check. */
  private final class HostCheck {
    private final UpstreamHost host;
    private final HealthProbe probe;
    private int successes;
    private int failures;
    private boolean closed;
    private @Nullable ScheduledFuture<?> timer;

    HostCheck(UpstreamHost host) {
      this.host = host;
      this.probe = HealthProbe.of(config.probe(), cluster, host, loop, config.timeoutMs());
    }

    void schedule(long delayMs) {
      timer = loop.schedule(this::run, delayMs, TimeUnit.MILLISECONDS);
    }

    private void run() {
      if (closed) {
        return;
      }
      attempt.inc();
      probe.check(this::done);
    }

    private void done(Result r, String detail) {
      if (closed) {
        return;
      }
      boolean wasFailed = host.activeHealthFailed();
      boolean wasPending = host.activeHealthIsPending();
      boolean edge = false;
      boolean degradedChanged = false;
      if (r == Result.SUCCESS || r == Result.DEGRADED) {
        if (host.activeDegraded() != (r == Result.DEGRADED)) {
          host.activeDegraded(r == Result.DEGRADED);
          degradedChanged = true;
        }
        success.inc();
        failures = 0;
        successes++;
        if (wasFailed && (wasPending || successes >= config.healthyThreshold())) {
          host.activeHealth(false);
          edge = true;
        } else if (wasPending) {
          host.activeHealth(false);
        }
      } else {
        (r == Result.FAILURE ? failure : networkFailure).inc();
        successes = 0;
        failures++;
        // a wrong answer fails the host at once; network failures count toward unhealthy_threshold
        if (!wasFailed && (r == Result.FAILURE || failures >= config.unhealthyThreshold())) {
          host.activeHealth(true);
          edge = true;
          logger.warn("cluster {}: host {} failed its health check: {}", cluster.config().name(), host, detail);
        } else if (wasPending) {
          host.activeHealth(true); // no longer pending: its first check failed
        }
      }
      if (edge || wasPending || degradedChanged) {
        cluster.activeHealthChanged(); // the hosts new requests may use changed
        updateHealthyGauge();
      }
      schedule(next(edge));
    }

    private long next(boolean edge) {
      long base = host.activeHealthFailed()
          ? (edge ? config.unhealthyEdgeIntervalMs() : config.unhealthyIntervalMs())
          : (edge ? config.healthyEdgeIntervalMs() : config.intervalMs());
      ThreadLocalRandom r = ThreadLocalRandom.current();
      long jitter = config.intervalJitterMs() > 0 ? r.nextLong(config.intervalJitterMs() + 1) : 0;
      long pct = base * config.intervalJitterPercent() / 100;
      return base + jitter + (pct > 0 ? r.nextLong(pct + 1) : 0);
    }

    void close() {
      closed = true;
      if (timer != null) {
        timer.cancel(false);
      }
      probe.close();
    }
  }
}
