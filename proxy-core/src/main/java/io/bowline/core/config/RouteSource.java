package io.bowline.core.config;

import io.bowline.core.router.HeaderMutation;
import io.bowline.core.router.RouteTable;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a connection manager's routes come from: its inline {@code route_config}, fixed for its life, or an RDS
 * route configuration by name, replaced whole (one volatile write) each time RDS delivers a new version. Every HCM
 * naming the same route configuration shares one source. A request reads the table once.
 */
public final class RouteSource {
  private final String name;
  private final boolean dynamic;
  private volatile @Nullable RouteTable table;
  /** {@code http.<stat_prefix>.rds.<name>.*} of every HCM that uses this source. */
  private final java.util.List<RdsStats> stats = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Envoy's RDS counters for one HCM. */
  public record RdsStats(io.bowline.core.stats.Counter updateAttempt, io.bowline.core.stats.Counter updateSuccess,
      io.bowline.core.stats.Counter updateRejected, io.bowline.core.stats.Counter configReload) {}

  private RouteSource(String name, boolean dynamic, @Nullable RouteTable table) {
    this.name = name;
    this.dynamic = dynamic;
    this.table = table;
  }

  public static RouteSource fixed(RouteTable table) {
    return new RouteSource(table.name(), false, table);
  }

  public static RouteSource rds(String routeConfigName) {
    return new RouteSource(routeConfigName, true, null);
  }

  public String name() {
    return name;
  }

  public boolean isRds() {
    return dynamic;
  }

  /** Whether RDS has delivered this route configuration yet (a listener using it warms until then). */
  public boolean isReady() {
    return table != null;
  }

  /** The routes in force; before RDS delivers them, none (every request gets a 404, as in Envoy). */
  public RouteTable current() {
    RouteTable t = table;
    return t != null ? t : empty(name);
  }

  public void publish(RouteTable next) {
    table = next;
    for (RdsStats s : stats) {
      s.updateAttempt().inc();
      s.updateSuccess().inc();
      s.configReload().inc();
    }
  }

  /** RDS delivered this route configuration and it was rejected. */
  public void rejected() {
    for (RdsStats s : stats) {
      s.updateAttempt().inc();
      s.updateRejected().inc();
    }
  }

  /** Counts this source's updates under an HCM's stats scope (once per stat prefix). */
  public void countUnder(io.bowline.core.stats.Stats.Scope hcmScope) {
    io.bowline.core.stats.Stats.Scope s = hcmScope.scope("rds." + name + ".");
    for (RdsStats existing : stats) {
      if (existing.updateAttempt() == s.counter("update_attempt")) {
        return;
      }
    }
    stats.add(new RdsStats(s.counter("update_attempt"), s.counter("update_success"), s.counter("update_rejected"),
        s.counter("config_reload")));
  }

  private static RouteTable empty(String name) {
    return new RouteTable(name, List.of(), HeaderMutation.NONE, HeaderMutation.NONE);
  }
}
