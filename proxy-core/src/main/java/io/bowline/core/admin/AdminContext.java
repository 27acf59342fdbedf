package io.bowline.core.admin;

import io.bowline.core.config.ProxyConfig;
import io.bowline.core.listener.ListenerManager;
import io.bowline.core.stats.Stats;
import io.bowline.core.upstream.ClusterManager;
import java.util.List;
import java.util.Map;

/** What the admin endpoints read and control; implemented by the server. */
public interface AdminContext {
  Stats stats();

  ProxyConfig config();

  /** What xDS delivered (empty without dynamic_resources). */
  default io.bowline.core.xds.XdsDump xdsDump() {
    return io.bowline.core.xds.XdsDump.EMPTY;
  }

  ClusterManager clusters();

  ListenerManager listeners();

  /** LIVE, DRAINING, PRE_INITIALIZING, as Envoy's server state. */
  String state();

  long uptimeSeconds();

  Map<String, Object> commandLineOptions();

  void quit();

  void drainListeners(boolean graceful);

  void setHealthCheckFailed(boolean failed);

  boolean healthCheckFailed();

  /** The mesh metrics (Istio's standard metrics) in Prometheus text, served after Envoy's own stats. */
  default String meshMetricsPrometheus() {
    return "";
  }

  /** Reopens every access-log file (after log rotation), as Envoy's {@code /reopen_logs}. */
  void reopenLogs();

  /** Current log levels by logger (component) name. */
  Map<String, String> logLevels();

  /** Sets one component's level, or every level when {@code component} is null; false if unknown. */
  boolean setLogLevel(String component, String level);

  List<String> logComponents();
}
