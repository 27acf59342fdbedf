package io.bowline.core.config;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's active health check ({@code health_checks[0]}), compiled: how often, how long to wait, how many results
 * turn a host healthy or unhealthy, and the probe itself.
 *
 * @param intervalJitterPercent added to each interval as a share of it (0–100)
 * @param unhealthyIntervalMs the interval while a host is unhealthy
 * @param unhealthyEdgeIntervalMs the interval right after a host turned unhealthy
 * @param healthyEdgeIntervalMs the interval right after a host turned healthy
 */
public record HealthCheckConfig(long timeoutMs, long intervalMs, long intervalJitterMs, int intervalJitterPercent,
    long initialJitterMs, int unhealthyThreshold, int healthyThreshold, long unhealthyIntervalMs,
    long unhealthyEdgeIntervalMs, long healthyEdgeIntervalMs, Probe probe) {

  /** What a check sends and what counts as healthy. */
  public sealed interface Probe permits Http, Tcp, Grpc {}

  /**
   * An HTTP/1.1 GET of {@code path}; healthy when the status is in one of {@code expectedStatuses} (ranges [start, end),
   * 200 by default) and the first {@code bufferBytes} of the body hold each {@code receive} block in order.
   */
  public record Http(@Nullable String host, String path, List<String[]> headersToAdd, List<String> headersToRemove,
      List<long[]> expectedStatuses, List<byte[]> receive, int bufferBytes) implements Probe {
    public Http {
      headersToAdd = List.copyOf(headersToAdd);
      headersToRemove = List.copyOf(headersToRemove);
      expectedStatuses = List.copyOf(expectedStatuses);
      receive = List.copyOf(receive);
    }

    public boolean expected(int status) {
      for (long[] r : expectedStatuses) {
        if (status >= r[0] && status < r[1]) {
          return true;
        }
      }
      return false;
    }
  }

  /** A TCP connect, then {@code send} (if any); healthy when the answer holds each {@code receive} block in order. */
  public record Tcp(byte @Nullable [] send, List<byte[]> receive) implements Probe {
    public Tcp {
      receive = List.copyOf(receive);
    }
  }

  /** {@code grpc.health.v1.Health/Check} for {@code serviceName}; healthy when the answer is SERVING. */
  public record Grpc(String serviceName, @Nullable String authority) implements Probe {}
}
