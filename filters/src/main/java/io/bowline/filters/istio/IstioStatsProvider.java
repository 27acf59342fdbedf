package io.bowline.filters.istio;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.filter.ListenerContext;
import io.bowline.core.tls.Certificates;
import io.netty.util.concurrent.FastThreadLocal;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * One configured {@code istio.stats} filter: who reports (the listener's direction, or a waypoint), this proxy's
 * own workload, and per event loop the peers, services and label sets already resolved, so a request costs a few map
 * lookups by identity and no string building or registry lookup.
 */
final class IstioStatsProvider implements HttpFilterProvider {
  /** Which side of the call this proxy reports as. */
  enum Role { SOURCE, DESTINATION, WAYPOINT }

  private static final int CACHE_LIMIT = 4096;

  private final StatsSettings settings;
  private final LoopMeters loopMeters;
  private final Role role;
  private final String reporter;
  private final Workload self;
  private final boolean addsDimensions;
  private final @Nullable CustomMetrics custom; // null without definitions
  /** Host as the connection manager captured it (this filter's own: a capture is per connection manager). */
  private final io.bowline.core.accesslog.RequestHeaderName loggedHost =
      new io.bowline.core.accesslog.RequestHeaderName(io.netty.handler.codec.http.HttpHeaderNames.HOST);
  private final FastThreadLocal<Loop> loops = new FastThreadLocal<>() {
    @Override
    protected Loop initialValue() {
      return new Loop();
    }
  };

  private final io.bowline.core.filter.ClusterDirectory clusters;

  IstioStatsProvider(StatsSettings settings, ListenerContext listener,
      io.bowline.core.filter.ClusterDirectory clusters) {
    this.clusters = clusters;
    this.settings = settings;
    this.loopMeters = LoopMeters.of(listener.meters());
    this.role = roleOf(settings, listener);
    this.reporter = reporterName(role);
    this.self = Workload.of(listener.nodeMetadata());
    this.addsDimensions = settings.families().values().stream().anyMatch(StatsSettings.Family::evaluates);
    this.custom = settings.custom().isEmpty() ? null : CustomMetrics.of(listener.meters());
  }

  /**
   * A waypoint reports as one; a sidecar by its listener's direction (outbound: the source side). A listener with
   * no direction — bowline on a laptop in front of a service — reports as the destination.
   */
  static Role roleOf(StatsSettings settings, ListenerContext listener) {
    return settings.serverGateway() ? Role.WAYPOINT
        : listener.direction() == ListenerContext.Direction.OUTBOUND ? Role.SOURCE : Role.DESTINATION;
  }

  static String reporterName(Role role) {
    return switch (role) {
      case SOURCE -> "source";
      case DESTINATION -> "destination";
      case WAYPOINT -> "waypoint";
    };
  }

  Role role() {
    return role;
  }

  Loop loop() {
    return loops.get();
  }

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return new IstioStatsFilter(this, callbacks);
  }

  @Override
  public boolean logs() {
    return true;
  }

  /** Records one finished request; on its event loop. */
  void record(AccessLogFacts f, @Nullable Workload downstreamPeer, @Nullable Workload upstreamPeer) {
    Loop loop = loops.get();
    Workload source = role == Role.SOURCE ? self : downstreamPeer != null ? downstreamPeer : Workload.NONE;
    Workload destination = role == Role.DESTINATION ? self : upstreamPeer != null ? upstreamPeer
        : role == Role.SOURCE ? loop.endpointPeer(f.upstreamHostMetadata) : Workload.NONE;
    MeshService service = loop.service(f, !settings.disableHostHeaderFallback());
    String[] principals = role == Role.SOURCE ? loop.upstreamPrincipals(f.upstreamTls) : loop.principals(f.tls);
    Edge edge = loop.edge(source, destination, service, principals);
    edge.meters(f).record(f.durationNanos / 1e6, f.bytesReceived, f.bytesSent, f.requestMessages,
        f.responseMessages);
    if (custom != null) {
      custom.record(settings.custom(), f);
    }
  }

  /** What a label set depends on beyond the request's outcome. */
  private record EdgeKey(Workload source, Workload destination, MeshService service, String[] principals) {
    @Override
    public boolean equals(Object o) {
      return o instanceof EdgeKey k && k.source.equals(source) && k.destination.equals(destination)
          && k.service.equals(service) && k.principals == principals;
    }

    @Override
    public int hashCode() {
      return (source.hashCode() * 31 + destination.hashCode()) * 31 + service.hashCode()
          + System.identityHashCode(principals);
    }
  }

  /** The label values of one (peers, service) pair, and its meters by outcome. */
  private final class Edge {
    private final String[] base;
    private final Map<Long, HttpMeters> byOutcome = new HashMap<>();
    private final Map<String, HttpMeters> byRareOutcome = new HashMap<>();
    private long lastOutcome = -1;
    private @Nullable HttpMeters lastMeters;

    Edge(EdgeKey k) {
      base = java.util.Arrays.copyOf(PeerLabels.of(role, reporter, self, k.source(), k.destination(), k.service(),
          k.principals()), 25);
      base[24] = k.principals()[2];
    }

    HttpMeters meters(AccessLogFacts f) {
      boolean grpc = f.grpcStatus >= 0;
      if (f.responseFlags.equals("-") && !addsDimensions) {
        long key = (long) f.responseCode << 20 | (long) (f.grpcStatus + 1) << 1 | (grpc ? 1 : 0);
        if (key == lastOutcome && lastMeters != null) {
          return lastMeters; // an edge's outcomes mostly repeat: no boxed key, no hash lookup
        }
        HttpMeters m = byOutcome.get(key);
        if (m == null) {
          m = create(f, Map.of());
          byOutcome.put(key, m);
        }
        lastOutcome = key;
        lastMeters = m;
        return m;
      }
      Map<String, String> added = HttpMeters.evaluate(settings, f);
      String key = f.responseCode + "|" + f.grpcStatus + "|" + f.responseFlags + "|" + added;
      HttpMeters m = byRareOutcome.get(key);
      if (m == null) {
        if (byRareOutcome.size() >= CACHE_LIMIT) {
          byRareOutcome.clear();
        }
        m = create(f, added);
        byRareOutcome.put(key, m);
      }
      return m;
    }

    private HttpMeters create(AccessLogFacts f, Map<String, String> added) {
      String[] values = base.clone();
      boolean grpc = f.grpcStatus >= 0;
      values[20] = grpc ? "grpc" : "http";
      values[21] = Integer.toString(f.responseCode);
      values[22] = grpc ? Integer.toString(f.grpcStatus) : "";
      values[23] = f.responseFlags;
      return new HttpMeters(loopMeters, settings, values, added);
    }
  }

  /** What a cluster's config says of its service (null: nothing), and which config that was. */
  private record ClusterService(@Nullable Object generation, @Nullable MeshService service) {}

  /** One event loop's resolved peers, services, TLS identities and label sets; touched only by that loop. */
  final class Loop {
    private static final String[] NO_TLS_SOURCE = {Workload.UNKNOWN, Workload.UNKNOWN, Workload.UNKNOWN};
    private static final String[] NO_TLS = {Workload.UNKNOWN, Workload.UNKNOWN, "none"};

    private final Map<String, Workload> endpointPeers = new HashMap<>();
    private java.util.@Nullable Map<String, com.google.protobuf.Struct> lastEndpointMetadata;
    private Workload lastEndpointPeer = Workload.NONE;

    /**
     * The destination as its endpoint's {@code istio.workload} metadata names it: Istio's source-side fallback when
     * the response brought no peer metadata (a destination without a sidecar, say).
     */
    Workload endpointPeer(java.util.@Nullable Map<String, com.google.protobuf.Struct> metadata) {
      if (metadata == lastEndpointMetadata) {
        return lastEndpointPeer; // a host's metadata map is one object for its life: no lookup for a repeat
      }
      Workload w = Workload.NONE;
      String key = Workload.endpointEncoding(metadata);
      if (key != null) {
        w = endpointPeers.get(key);
        if (w == null) {
          w = Workload.ofEndpoint(key);
          bound(endpointPeers).put(key, w);
        }
      }
      lastEndpointMetadata = metadata;
      lastEndpointPeer = w;
      return w;
    }

    /**
     * {source_principal, destination_principal, connection_security_policy} of an upstream connection, as a source
     * proxy labels them: its own certificate's URI SAN, the peer's; Istio leaves the policy unknown on this side.
     */
    String[] upstreamPrincipals(@Nullable SSLSession tls) {
      if (tls == null) {
        return NO_TLS_SOURCE;
      }
      String[] p = identities.get(tls);
      if (p == null) {
        p = upstreamPrincipalsOf(tls);
        bound(identities).put(tls, p);
      }
      return p;
    }

    private final Map<String, Workload> peers = new HashMap<>();
    private final Map<String, MeshService> byHost = new HashMap<>();
    private final Map<String, ClusterService> byCluster = new HashMap<>();
    private final Map<SSLSession, String[]> identities = new IdentityHashMap<>();
    private final Map<EdgeKey, Edge> edges = new HashMap<>();

    Workload peer(String header) {
      Workload w = peers.get(header);
      if (w == null) {
        w = Workload.fromHeader(header);
        if (w == null) {
          w = Workload.NONE;
        }
        bound(peers).put(header, w);
      }
      return w;
    }

    /** The cluster config this loop's last request went to, and what it says: a loop's traffic mostly repeats one. */
    private @Nullable Object lastGeneration;
    private @Nullable ClusterService lastClusterService;

    MeshService service(AccessLogFacts f, boolean hostFallback) {
      String cluster = f.upstreamCluster;
      if (cluster != null) {
        // the stream knows its cluster's config: no lookup by name unless the facts came from elsewhere
        Object generation = f.upstreamClusterGeneration != null ? f.upstreamClusterGeneration
            : clusters.generation(cluster);
        ClusterService cs = generation != null && generation == lastGeneration ? lastClusterService
            : byCluster.get(cluster);
        if (cs == null || cs.generation() != generation) {
          // Istio's cluster metadata names the service; its cluster name does too for outbound clusters. Read once
          // per cluster config: a cluster that names no service (an inbound one) falls back to the host each time.
          MeshService s = MeshService.ofIstioMetadata(clusters.metadata(cluster, "istio"));
          if (s == null) {
            s = MeshService.ofCluster(cluster);
          }
          cs = new ClusterService(generation, s);
          bound(byCluster).put(cluster, cs);
        }
        lastGeneration = generation;
        lastClusterService = cs;
        if (cs.service() != null) {
          return cs.service();
        }
      }
      CharSequence hostValue = hostFallback ? f.firstRequestHeader(loggedHost) : null;
      if (hostValue == null) {
        return MeshService.UNKNOWN;
      }
      if (lastHost != null && sameHost(lastHost, hostValue)) {
        return lastHostService; // a loop's traffic mostly repeats one host: no new string, no hash per request
      }
      String host = hostValue.toString();
      MeshService s = byHost.get(host);
      if (s == null) {
        s = MeshService.ofHost(host);
        bound(byHost).put(host, s);
      }
      lastHost = new io.netty.util.AsciiString(host); // its own bytes: never a view of a request's buffer
      lastHostService = s;
      return s;
    }

    private io.netty.util.@Nullable AsciiString lastHost;

    /**
     * Whether a request's Host is the one last seen: parsed headers are AsciiStrings, so a length and an array compare
     * (AsciiString's own equals hashes the new value first, which cost more than the compare).
     */
    private static boolean sameHost(io.netty.util.AsciiString last, CharSequence host) {
      if (host instanceof io.netty.util.AsciiString a) {
        return a.length() == last.length() && java.util.Arrays.equals(a.array(), a.arrayOffset(),
            a.arrayOffset() + a.length(), last.array(), last.arrayOffset(), last.arrayOffset() + last.length());
      }
      return io.netty.util.AsciiString.contentEquals(last, host);
    }
    private MeshService lastHostService = MeshService.UNKNOWN;

    /** {source_principal, destination_principal, connection_security_policy} of a downstream connection. */
    String[] principals(@Nullable SSLSession tls) {
      if (tls == null) {
        return NO_TLS;
      }
      String[] p = identities.get(tls);
      if (p == null) {
        p = principalsOf(tls);
        bound(identities).put(tls, p);
      }
      return p;
    }

    /** The last edge this loop recorded, checked by identity first: a loop's traffic mostly repeats one pair. */
    private @Nullable Edge last;
    private @Nullable EdgeKey lastKey;

    Edge edge(Workload source, Workload destination, MeshService service, String[] principals) {
      EdgeKey k = lastKey;
      if (k != null && k.source() == source && k.destination() == destination && k.service() == service
          && k.principals() == principals) {
        return last;
      }
      k = new EdgeKey(source, destination, service, principals);
      Edge e = edges.get(k);
      if (e == null) {
        e = new Edge(k);
        bound(edges).put(k, e);
      }
      last = e;
      lastKey = k;
      return e;
    }

    private static <K, V> Map<K, V> bound(Map<K, V> m) {
      if (m.size() >= CACHE_LIMIT) {
        m.clear(); // a churning mesh must not grow the cache without bound; the meters themselves stay registered
      }
      return m;
    }

  }

  /** The certificate's first URI SAN: its SPIFFE id, as Istio labels principals. */
  static @Nullable String uriSan(@Nullable X509Certificate c) {
    return Certificates.firstSan(c, Certificates.URI);
  }

  /**
   * {source_principal, destination_principal, connection_security_policy} of an upstream TLS session, as a source
   * proxy labels them: its own certificate's URI SAN, the peer's, and the policy unknown (Istio sets it server-side).
   */
  static String[] upstreamPrincipalsOf(SSLSession tls) {
    String own = uriSan(Certificates.local(tls));
    String peer = uriSan(Certificates.peer(tls));
    return new String[] {own == null ? Workload.UNKNOWN : own, peer == null ? Workload.UNKNOWN : peer,
        Workload.UNKNOWN};
  }

  /** {source_principal, destination_principal, connection_security_policy} of a TLS session, as Istio labels them. */
  static String[] principalsOf(SSLSession tls) {
    String peer = uriSan(Certificates.peer(tls));
    String own = uriSan(Certificates.local(tls));
    return new String[] {peer == null ? Workload.UNKNOWN : peer, own == null ? Workload.UNKNOWN : own,
        peer == null ? "none" : "mutual_tls"};
  }
}
