package io.bowline.filters.grpcstats;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.PerCluster;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterConfig;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.grpc_stats}: each finished gRPC call counted under its route's cluster,
 * {@code cluster.<cluster>.grpc.[<service>.<method>.]success/failure/total/request_message_count/
 * response_message_count} — per method for {@code stats_for_all_methods} or the methods of
 * {@code individual_method_stats_allowlist}, else together. Success is grpc-status 0. Counters are found once per
 * cluster and method and kept (at most {@value #MAX_METHODS} methods a cluster; calls to more are counted together).
 * {@code emit_filter_state} is accepted: the message counts are in every stream's access-log facts, where Istio's
 * metrics read them. {@code enable_upstream_stats} (an upstream_rq_time histogram) is refused.
 */
public final class GrpcStatsFactory implements HttpFilterFactory<FilterConfig> {
  static final int MAX_METHODS = 1000;

  @Override
  public String name() {
    return "envoy.filters.http.grpc_stats";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig";
  }

  @Override
  public Class<FilterConfig> configType() {
    return FilterConfig.class;
  }

  @Override
  public FilterConfig defaultConfig() {
    return FilterConfig.getDefaultInstance();
  }

  /** One group's counters. */
  record Meters(Counter success, Counter failure, Counter total, Counter requestMessages, Counter responseMessages) {
    static Meters in(Stats.Scope s) {
      return new Meters(s.counter("success"), s.counter("failure"), s.counter("total"),
          s.counter("request_message_count"), s.counter("response_message_count"));
    }

    void count(AccessLogFacts f) {
      (f.grpcStatus == 0 ? success : failure).inc();
      total.inc();
      requestMessages.add(f.requestMessages);
      responseMessages.add(f.responseMessages);
    }
  }

  @Override
  public HttpFilterProvider create(FilterConfig c, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    if (c.getEnableUpstreamStats()) {
      throw new ConfigException(path + ".enable_upstream_stats", "not supported by bowline yet");
    }
    boolean all = c.hasStatsForAllMethods() && c.getStatsForAllMethods().getValue();
    Set<String> allowed = new HashSet<>();
    for (var service : c.getIndividualMethodStatsAllowlist().getServicesList()) {
      for (String method : service.getMethodNamesList()) {
        allowed.add("/" + service.getName() + "/" + method);
      }
    }
    Counting counting = new Counting(context.stats().stats(), all, Set.copyOf(allowed),
        c.getReplaceDotsInGrpcServiceName());
    return new HttpFilterProvider() {
      @Override
      public HttpFilter create(io.bowline.core.filter.HttpFilterCallbacks callbacks) {
        return counting;
      }

      @Override
      public boolean logs() {
        return true;
      }
    };
  }

  /** The counting, shared by every stream of the config: it keeps nothing per stream. */
  static final class Counting implements HttpFilter {
    private final Stats stats;
    private final boolean all;
    private final Set<String> allowed;
    private final boolean replaceDots;
    /** Per cluster: the cluster-wide counters, and the per-method ones by :path. */
    private final PerCluster<ClusterMeters> clusters;

    Counting(Stats stats, boolean all, Set<String> allowed, boolean replaceDots) {
      this.stats = stats;
      this.all = all;
      this.allowed = allowed;
      this.replaceDots = replaceDots;
      this.clusters = new PerCluster<>(stats, ClusterMeters::new);
    }

    private final class ClusterMeters {
      final Stats.Scope scope;
      final Meters together;
      final Map<String, Meters> byPath = new ConcurrentHashMap<>();

      ClusterMeters(String cluster) {
        scope = stats.scope("cluster." + cluster + ".grpc.");
        together = Meters.in(scope);
      }

      Meters of(@Nullable String path) {
        if (path == null || !(all || allowed.contains(path))) {
          return together;
        }
        Meters m = byPath.get(path);
        if (m != null) {
          return m;
        }
        int slash = path.indexOf('/', 1);
        if (!path.startsWith("/") || slash < 0 || slash == path.length() - 1 || byPath.size() >= MAX_METHODS) {
          return together;
        }
        String service = path.substring(1, slash);
        return byPath.computeIfAbsent(path, p -> Meters.in(scope.scope((replaceDots ? service.replace('.', '_')
            : service) + "." + path.substring(slash + 1) + ".")));
      }
    }

    @Override
    public void onLog(AccessLogFacts f) {
      if (f.grpcStatus < 0 || f.upstreamCluster == null) {
        return; // not a gRPC call, or it went to no cluster
      }
      ClusterMeters c = clusters.of(f.upstreamCluster);
      String p = f.path;
      if (p != null && p.indexOf('?') >= 0) {
        p = p.substring(0, p.indexOf('?'));
      }
      c.of(p).count(f);
    }
  }
}
