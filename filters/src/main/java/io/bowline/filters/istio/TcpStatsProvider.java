package io.bowline.filters.istio;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.filter.ConnectionObserver;
import io.bowline.core.filter.ConnectionObserverProvider;
import io.bowline.core.filter.ListenerContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * {@code istio.stats} as a network filter before tcp_proxy: Istio's TCP metrics
 * ({@code istio_tcp_connections_opened_total}, {@code _closed_total}, {@code istio_tcp_sent_bytes_total},
 * {@code istio_tcp_received_bytes_total}), bytes reported every {@code tcp_reporting_duration} and at the close.
 * A TCP peer is known by Istio's TCP metadata exchange when that ran on the connection (its node metadata), else only
 * by its mTLS principal. Labels are resolved at the connection's first report, when the exchange has happened.
 */
final class TcpStatsProvider implements ConnectionObserverProvider {
  private final StatsSettings settings;
  private final MeterRegistry registry;
  private final IstioStatsProvider.Role role;
  private final String reporter;
  private final Workload self;
  private final long reportingMs;
  private final Map<MetersKey, TcpMeters> meters = new ConcurrentHashMap<>();

  private final io.bowline.core.filter.ClusterDirectory clusters;
  private final @Nullable CustomMetrics custom; // null without definitions

  TcpStatsProvider(StatsSettings settings, ListenerContext listener, io.bowline.core.filter.ClusterDirectory clusters,
      long reportingMs) {
    this.settings = settings;
    this.clusters = clusters;
    this.custom = settings.custom().isEmpty() ? null : CustomMetrics.of(listener.meters());
    this.registry = listener.meters();
    this.role = IstioStatsProvider.roleOf(settings, listener);
    this.reporter = IstioStatsProvider.reporterName(role);
    this.self = Workload.of(listener.nodeMetadata());
    this.reportingMs = reportingMs;
  }

  @Override
  public long reportingIntervalMs() {
    return reportingMs;
  }

  @Override
  public ConnectionObserver create() {
    return new ConnectionObserver() {
      private @Nullable TcpMeters m;
      private long reportedReceived;
      private long reportedSent;

      private boolean open;

      @Override
      public void opened(AccessLogFacts f) {
        open = true; // counted at the first report, as Istio does: the peer's metadata may still be on its way
      }

      @Override
      public void progress(AccessLogFacts f) {
        report(f);
      }

      @Override
      public void closed(AccessLogFacts f) {
        report(f);
        if (m.closed != null) {
          m.closed.increment();
        }
        if (custom != null) {
          custom.record(settings.custom(), f); // at the close, as Istio records a connection's custom metrics
        }
      }

      private void report(AccessLogFacts f) {
        if (m == null) {
          m = meters(f); // labels resolved once, at the first report (or at the close, if it never reached one)
          if (open && m.opened != null) {
            m.opened.increment();
          }
        }
        if (m.received != null && f.bytesReceived > reportedReceived) {
          m.received.increment(f.bytesReceived - reportedReceived);
        }
        if (m.sent != null && f.bytesSent > reportedSent) {
          m.sent.increment(f.bytesSent - reportedSent);
        }
        reportedReceived = f.bytesReceived;
        reportedSent = f.bytesSent;
      }
    };
  }

  /** The connection's meters; resolved once per connection. */
  private TcpMeters meters(AccessLogFacts f) {
    boolean sourceSide = role == IstioStatsProvider.Role.SOURCE;
    String[] tls = sourceSide ? upstreamPrincipals(f.upstreamTls) : principals(f.tls);
    // the other side is known by Istio's TCP metadata exchange when it ran, else (source side) by its endpoint's
    // istio.workload metadata, else only by its principal
    Workload source = sourceSide ? self
        : f.downstreamPeerMetadata != null ? Workload.of(f.downstreamPeerMetadata) : Workload.NONE;
    Workload destination = role == IstioStatsProvider.Role.DESTINATION ? self
        : f.upstreamPeerMetadata != null ? Workload.of(f.upstreamPeerMetadata)
        : sourceSide ? endpointPeer(f.upstreamHostMetadata) : Workload.NONE;
    MeshService svc = f.upstreamCluster == null ? null
        : MeshService.ofIstioMetadata(clusters.metadata(f.upstreamCluster, "istio"));
    if (svc == null) {
      svc = MeshService.ofCluster(f.upstreamCluster);
    }
    if (svc == null) {
      svc = MeshService.UNKNOWN;
    }
    List<String> values = new ArrayList<>(List.of(PeerLabels.of(role, reporter, self, source, destination, svc,
        tls)));
    values.add("tcp");
    values.add(f.responseFlags);
    values.add(tls[2]);
    // dimensions are evaluated once, with the labels: Istio evaluates a TCP connection's expressions at its first report
    Map<String, String> evaluated = HttpMeters.evaluate(settings, f);
    return meters.computeIfAbsent(new MetersKey(List.copyOf(values), evaluated),
        k -> new TcpMeters(k.values(), k.evaluated()));
  }

  private record MetersKey(List<String> values, Map<String, String> evaluated) {}

  private static String[] principals(@Nullable SSLSession s) {
    return s == null ? new String[] {Workload.UNKNOWN, Workload.UNKNOWN, "none"} : IstioStatsProvider.principalsOf(s);
  }

  private static String[] upstreamPrincipals(@Nullable SSLSession s) {
    return s == null ? new String[] {Workload.UNKNOWN, Workload.UNKNOWN, Workload.UNKNOWN}
        : IstioStatsProvider.upstreamPrincipalsOf(s);
  }

  private static Workload endpointPeer(@Nullable Map<String, com.google.protobuf.Struct> metadata) {
    String encoded = Workload.endpointEncoding(metadata);
    return encoded == null ? Workload.NONE : Workload.ofEndpoint(encoded);
  }

  private final class TcpMeters {
    final @Nullable Counter opened;
    final @Nullable Counter closed;
    final @Nullable Counter sent;
    final @Nullable Counter received;

    TcpMeters(List<String> values, Map<String, String> evaluated) {
      String[] v = values.toArray(String[]::new);
      opened = counter("tcp_connections_opened_total", v, evaluated);
      closed = counter("tcp_connections_closed_total", v, evaluated);
      sent = counter("tcp_sent_bytes_total", v, evaluated);
      received = counter("tcp_received_bytes_total", v, evaluated);
    }

    private @Nullable Counter counter(String name, String[] values, Map<String, String> evaluated) {
      StatsSettings.Family f = settings.families().get(name);
      if (f.dropped()) {
        return null;
      }
      var labels = HttpMeters.labels(f, StatsSettings.TCP_LABELS, values, evaluated);
      List<Tag> tags = new ArrayList<>();
      for (int i = 0; i < labels.size(); i++) {
        tags.add(Tag.of(labels.getName(i), labels.getValue(i)));
      }
      return Counter.builder("istio_" + name).description(HttpMeters.HELP.get(name)).tags(Tags.of(tags))
          .register(registry);
    }
  }
}
