package io.bowline.core.compile;

import io.bowline.core.config.HealthCheckConfig;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Compiles a cluster's {@code health_checks} (one, as Envoy allows) into a {@link HealthCheckConfig}. */
final class HealthChecks {
  private HealthChecks() {}

  static @Nullable HealthCheckConfig compile(Cluster c, String path) throws ConfigException {
    if (c.getHealthChecksCount() == 0) {
      return null;
    }
    if (c.getHealthChecksCount() > 1) {
      throw new ConfigException(path + ".health_checks", "only one health check per cluster is supported");
    }
    HealthCheck h = c.getHealthChecks(0);
    String p = path + ".health_checks[0]";
    // reuse_connection is accepted: HTTP and TCP checks open a connection per check (gRPC keeps its channel);
    // no_traffic_interval is accepted: checks run at interval whether or not the cluster has had traffic
    Fields.allow(h, p, "timeout", "interval", "initial_jitter", "interval_jitter", "interval_jitter_percent",
        "unhealthy_threshold", "healthy_threshold", "reuse_connection", "http_health_check", "tcp_health_check",
        "grpc_health_check", "no_traffic_interval", "no_traffic_healthy_interval", "unhealthy_interval",
        "unhealthy_edge_interval", "healthy_edge_interval", "always_log_health_check_failures",
        "always_log_health_check_success");
    long timeout = positive(h.hasTimeout(), Fields.millis(h.getTimeout()), p + ".timeout");
    long interval = positive(h.hasInterval(), Fields.millis(h.getInterval()), p + ".interval");
    if (!h.hasUnhealthyThreshold() || !h.hasHealthyThreshold()) {
      throw new ConfigException(p + (h.hasUnhealthyThreshold() ? ".healthy_threshold" : ".unhealthy_threshold"),
          "required");
    }
    if (h.getIntervalJitterPercent() > 100) {
      throw new ConfigException(p + ".interval_jitter_percent", "must be at most 100");
    }
    long unhealthyInterval = h.hasUnhealthyInterval() ? Fields.millis(h.getUnhealthyInterval()) : interval;
    HealthCheckConfig.Probe probe = switch (h.getHealthCheckerCase()) {
      case HTTP_HEALTH_CHECK -> http(h.getHttpHealthCheck(), p + ".http_health_check");
      case TCP_HEALTH_CHECK -> {
        var t = h.getTcpHealthCheck();
        String tp = p + ".tcp_health_check";
        Fields.allow(t, tp, "send", "receive");
        yield new HealthCheckConfig.Tcp(t.hasSend() ? payload(t.getSend(), tp + ".send") : null,
            payloads(t.getReceiveList(), tp + ".receive"));
      }
      case GRPC_HEALTH_CHECK -> {
        var g = h.getGrpcHealthCheck();
        Fields.allow(g, p + ".grpc_health_check", "service_name", "authority");
        yield new HealthCheckConfig.Grpc(g.getServiceName(), g.getAuthority().isEmpty() ? null : g.getAuthority());
      }
      default -> throw new ConfigException(p, "an http_health_check, tcp_health_check or grpc_health_check is "
          + "required (custom and redis checks are not supported by bowline)");
    };
    return new HealthCheckConfig(timeout, interval, h.hasIntervalJitter() ? Fields.millis(h.getIntervalJitter()) : 0,
        h.getIntervalJitterPercent(), h.hasInitialJitter() ? Fields.millis(h.getInitialJitter()) : 0,
        Math.max(1, h.getUnhealthyThreshold().getValue()), Math.max(1, h.getHealthyThreshold().getValue()),
        unhealthyInterval,
        h.hasUnhealthyEdgeInterval() ? Fields.millis(h.getUnhealthyEdgeInterval()) : unhealthyInterval,
        h.hasHealthyEdgeInterval() ? Fields.millis(h.getHealthyEdgeInterval()) : interval, probe);
  }

  private static HealthCheckConfig.Http http(HealthCheck.HttpHealthCheck h, String p) throws ConfigException {
    Fields.allow(h, p, "host", "path", "request_headers_to_add", "request_headers_to_remove", "expected_statuses",
        "receive", "response_buffer_size", "codec_client_type");
    if (h.getPath().isEmpty()) {
      throw new ConfigException(p + ".path", "required");
    }
    if (h.getCodecClientTypeValue() != 0) { // HTTP1
      throw new ConfigException(p + ".codec_client_type", "only HTTP1 health checks are supported by bowline yet");
    }
    List<String[]> add = new ArrayList<>();
    for (int i = 0; i < h.getRequestHeadersToAddCount(); i++) {
      var hv = h.getRequestHeadersToAdd(i).getHeader();
      if (hv.getKey().isEmpty()) {
        throw new ConfigException(p + ".request_headers_to_add[" + i + "].header.key", "required");
      }
      add.add(new String[] {hv.getKey().toLowerCase(Locale.ROOT), hv.getValue()});
    }
    List<long[]> expected = new ArrayList<>();
    for (int i = 0; i < h.getExpectedStatusesCount(); i++) {
      var r = h.getExpectedStatuses(i);
      if (r.getStart() < 100 || r.getEnd() > 600 || r.getStart() >= r.getEnd()) {
        throw new ConfigException(p + ".expected_statuses[" + i + "]", "must be a range within [100, 600)");
      }
      expected.add(new long[] {r.getStart(), r.getEnd()});
    }
    if (expected.isEmpty()) {
      expected.add(new long[] {200, 201}); // Envoy's default: 200 only
    }
    long buffer = h.hasResponseBufferSize() ? h.getResponseBufferSize().getValue() : 1024;
    return new HealthCheckConfig.Http(h.getHost().isEmpty() ? null : h.getHost(), h.getPath(), add,
        h.getRequestHeadersToRemoveList().stream().map(n -> n.toLowerCase(Locale.ROOT)).toList(), expected,
        payloads(h.getReceiveList(), p + ".receive"), buffer == 0 ? 1 << 20 : (int) Math.min(buffer, 1 << 20));
  }

  private static List<byte[]> payloads(List<HealthCheck.Payload> list, String path) throws ConfigException {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      out.add(payload(list.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  /** A payload: {@code text} is hex, as Envoy reads it; {@code binary} is raw bytes. */
  private static byte[] payload(HealthCheck.Payload p, String path) throws ConfigException {
    return switch (p.getPayloadCase()) {
      case TEXT -> {
        try {
          yield HexFormat.of().parseHex(p.getText().toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new ConfigException(path + ".text", "must be hex, got \"" + p.getText() + "\"");
        }
      }
      case BINARY -> p.getBinary().toByteArray();
      default -> throw new ConfigException(path, "text or binary is required");
    };
  }

  private static long positive(boolean present, long ms, String path) throws ConfigException {
    if (!present || ms <= 0) {
      throw new ConfigException(path, "required and greater than 0");
    }
    return ms;
  }
}
