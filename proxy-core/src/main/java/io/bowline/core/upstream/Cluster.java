package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.TlsContextSource;
import io.bowline.core.transport.Transport;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster at run time: its current hosts (published whole, as an immutable {@link HostSet}), its load balancer,
 * and one set of connection pools per event loop, so a stream only ever uses connections of its own loop.
 */
public final class Cluster {
  private static final Logger logger = LoggerFactory.getLogger(Cluster.class);

  private final ClusterConfig config;
  private final io.bowline.core.stats.Stats.Scope scope;
  private final ClusterUpdateStats updates;
  /** Made on the cluster's first traffic (see {@link ClusterStats}). */
  private volatile @Nullable ClusterStats stats;
  private final Transport transport;
  private final LoadBalancer lb;
  private final CircuitBreaker breaker;
  private final Map<EventExecutor, LoopPools> pools;
  private volatile HostSet hosts = HostSet.EMPTY;
  private volatile @Nullable Zones zones;
  private volatile @Nullable ZoneRouting zoneRouting;
  private volatile @Nullable Runnable availableListener;
  /** Active health checking, for clusters that configure it. */
  private final @Nullable HealthChecker healthChecker;
  /** The hosts new requests may go to, by priority: healthy and not ejected, or all of them in panic (Envoy's). */
  private volatile PrioritySet available = PrioritySet.EMPTY;
  /** The load assignment's overprovisioning factor, percent. */
  private volatile int overprovisioning = 140;
  private final @Nullable OutlierDetector outlier;
  private @Nullable ScheduledFuture<?> outlierTimer;
  private @Nullable ScheduledFuture<?> slowStartTimer;
  private @Nullable ScheduledFuture<?> originalDstCleanup;
  /** ORIGINAL_DST clusters: the hosts requests named, by address. */
  private final java.util.concurrent.ConcurrentHashMap<java.net.InetSocketAddress, UpstreamHost> originalDstHosts =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Whether the last slow-start tick saw a host in its window (one more recompute once the last leaves it). */
  private volatile boolean slowStartWasOn = true;
  /** EDS clusters: the endpoints of the last accepted load assignment (IP literals, so refresh never blocks). */
  private volatile List<ClusterConfig.EndpointConfig> edsEndpoints = List.of();
  private @Nullable ScheduledFuture<?> dnsRefresh;
  /** Every upstream connection of every cluster, so that shutdown can close them before the event loops stop. */
  private final ChannelGroup connections;
  /** Made at the first failure to connect: a mesh's clusters mostly never have one. */
  private volatile @Nullable ConnectFailureLog connectFailures;

  /** {@code scope}: {@code cluster.<name>.} in {@code store}. */
  Cluster(ClusterConfig config, io.bowline.core.stats.Stats.Scope scope, Transport transport, EventLoopGroup group,
      io.bowline.core.stats.Stats store, ChannelGroup connections) {
    this.config = config;
    this.connections = connections;
    this.scope = scope;
    ClusterStats.defer(scope);
    this.updates = new ClusterUpdateStats(scope);
    this.breaker = new CircuitBreaker(config.circuitBreakers(), this, store, config.name());
    this.outlier = config.outlierDetection() == null ? null
        : new OutlierDetector(config.outlierDetection(), this, scope);
    this.transport = transport;
    this.lb = LoadBalancer.of(config);
    int loops = 0;
    for (EventExecutor e : group) {
      loops++;
    }
    // sized for the loops: the default's 64-slot table was ~0.3 KB of every cluster a mesh pushes
    Map<EventExecutor, LoopPools> m = new IdentityHashMap<>(loops);
    for (EventExecutor e : group) {
      m.put(e, new LoopPools((EventLoop) e));
    }
    this.pools = m;
    this.healthChecker = config.healthCheck() == null ? null
        : new HealthChecker(this, config.healthCheck(), (io.netty.channel.EventLoop) group.next(), scope);
  }

  public ClusterConfig config() {
    return config;
  }

  /** The traffic stats, made by the first caller (an event loop about to use the cluster). */
  public ClusterStats stats() {
    ClusterStats s = stats;
    return s != null ? s : firstStats();
  }

  /**
   * No lock (the cluster's own is its control path's): two loops that race here make two holders of the same stats,
   * since the store hands out one stat per name, as it does to a cluster a config update replaced.
   */
  private ClusterStats firstStats() {
    ClusterStats s = new ClusterStats(scope);
    stats = s;
    return s;
  }

  public ClusterUpdateStats updateStats() {
    return updates;
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  Transport transport() {
    return transport;
  }

  /**
   * Applies the cluster's upstream socket options (TCP keep-alive) and the transport's read buffers to a bootstrap
   * that connects to its hosts.
   */
  public io.netty.bootstrap.Bootstrap withSocketOptions(io.netty.bootstrap.Bootstrap b) {
    ClusterConfig.Keepalive k = config.socket().keepalive();
    if (k != null) {
      transport().keepalive(b, k.probes(), k.timeS(), k.intervalS());
    }
    return transport().readBuffers(b);
  }

  /** Connects to {@code remote}, from the cluster's bound source address when it has one. */
  public io.netty.channel.ChannelFuture connect(io.netty.bootstrap.Bootstrap b, java.net.SocketAddress remote) {
    io.netty.channel.ChannelFuture f = connectQuietly(b, remote);
    f.addListener(done -> {
      if (!done.isSuccess() && !done.isCancelled()) {
        ConnectFailureLog log = connectFailures;
        if (log == null) {
          log = new ConnectFailureLog(config.name()); // a race makes two: at worst one more line
          connectFailures = log;
        }
        log.failed(remote, done.cause());
      }
    });
    return f;
  }

  /** {@link #connect}, leaving a failure to the caller to tell: health checks say theirs themselves. */
  public io.netty.channel.ChannelFuture connectQuietly(io.netty.bootstrap.Bootstrap b, java.net.SocketAddress remote) {
    java.net.InetSocketAddress source = config.socket().sourceAddress();
    io.netty.channel.ChannelFuture f = source == null ? b.connect(remote) : b.connect(remote, source);
    connections.add(f.channel());
    return f;
  }

  public HostSet hosts() {
    return hosts;
  }

  /** Resolves the endpoints now (blocking: call off the event loops) and, for DNS clusters, schedules refreshes. */
  void start(ScheduledExecutorService dnsExecutor) {
    refresh();
    if (outlier != null) {
      outlierTimer = dnsExecutor.scheduleWithFixedDelay(outlier::onInterval, outlier.intervalMs(),
          outlier.intervalMs(), TimeUnit.MILLISECONDS);
    }
    ClusterConfig.OriginalDst od = config.originalDst();
    if (od != null) {
      originalDstCleanup = dnsExecutor.scheduleWithFixedDelay(() -> cleanupOriginalDst(od.cleanupMs()),
          od.cleanupMs(), od.cleanupMs(), TimeUnit.MILLISECONDS);
    }
    ClusterConfig.SlowStart ss = config.slowStart();
    if (ss != null) {
      // the weights of hosts in their window ramp up: recomputed a few times a second while any host is in one
      long every = Math.max(100, Math.min(1000, ss.windowMs() / 20));
      slowStartTimer = dnsExecutor.scheduleWithFixedDelay(() -> {
        boolean on = inSlowStart(System.nanoTime());
        if (on || slowStartWasOn) { // and once more after the last host leaves its window, for the full weights
          slowStartWasOn = on;
          ejectionsChanged();
        }
      }, every, every, TimeUnit.MILLISECONDS);
    }
    if (config.type() == ClusterConfig.DiscoveryType.STRICT_DNS
        || config.type() == ClusterConfig.DiscoveryType.LOGICAL_DNS) {
      long every = config.dnsRefreshRateMs();
      dnsRefresh = dnsExecutor.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }
  }

  void stop() {
    if (healthChecker != null) {
      healthChecker.stop();
    }
    if (dnsRefresh != null) {
      dnsRefresh.cancel(false);
    }
    if (outlierTimer != null) {
      outlierTimer.cancel(false);
    }
    if (slowStartTimer != null) {
      slowStartTimer.cancel(false);
    }
    if (originalDstCleanup != null) {
      originalDstCleanup.cancel(false);
    }
    for (LoopPools p : pools.values()) {
      p.loop.execute(p::closeAll);
    }
  }

  /** Active health checking changed a host's health: new requests follow, and the healthy gauge too. */
  void activeHealthChanged() {
    ejectionsChanged();
    updates.membership(hosts.hosts());
  }

  /** Outlier detection's ejections changed (or the hosts did): recompute the hosts new requests may use. */
  synchronized void ejectionsChanged() {
    long now = System.nanoTime();
    PrioritySet next = PrioritySet.of(hosts, outlier == null ? null : h -> h.outlier.ejected(now), overprovisioning,
        config.healthyPanicThresholdPercent(), slowStartWeights(now));
    available = next;
    Zones z = zones;
    zoneRouting = z == null ? null : zoneRouting(z, now);
    Runnable l = availableListener;
    if (l != null) {
      l.run();
    }
  }

  /** What zone-aware routing needs from the cluster manager: this proxy's locality and the local cluster's view. */
  record Zones(String myLocality, java.util.function.Supplier<ZoneRouting.LocalView> local,
      ZoneRouting.Counters counters) {}

  /** Turns zone-aware routing on (ClusterManager, when a local cluster is configured); rebuilds the routing. */
  void zones(Zones z) {
    zones = z;
    ejectionsChanged();
  }

  /** Called after every rebuild of the available hosts (the local cluster's tells the cluster manager). */
  void onAvailableChanged(Runnable listener) {
    availableListener = listener;
  }

  /** Envoy applies zone-aware routing to the non-hashing balancers, unless locality weights decide instead. */
  private @Nullable ZoneRouting zoneRouting(Zones z, long now) {
    ClusterConfig.LbPolicy lb = config.lbPolicy();
    if (config.localityWeighted() || !(lb == ClusterConfig.LbPolicy.ROUND_ROBIN
        || lb == ClusterConfig.LbPolicy.LEAST_REQUEST || lb == ClusterConfig.LbPolicy.RANDOM)) {
      return null;
    }
    HostSet zero = available.priorityZero();
    if (zero == null || zero.panic) {
      return null; // priority 0 in panic: every host, no zone preference (Envoy)
    }
    List<UpstreamHost> healthy = new ArrayList<>(); // what zone routing spreads: the healthy tier only
    for (UpstreamHost h : hosts.hosts()) {
      if (h.priority() == 0 && available(h, now) && !h.degraded()) {
        healthy.add(h);
      }
    }
    return ZoneRouting.of(healthy, z.myLocality(), z.local().get(), config.zoneAware());
  }

  /** Healthy (EDS, active checks) and not ejected by outlier detection. */
  private boolean available(UpstreamHost h, long now) {
    return h.healthy() && (outlier == null || !h.outlier.ejected(now));
  }

  /** The local cluster's healthy priority-0 hosts by locality (for the cluster manager's view). */
  ZoneRouting.LocalView localView() {
    Map<String, Integer> by = new java.util.TreeMap<>();
    int total = 0;
    long now = System.nanoTime();
    for (UpstreamHost h : hosts.hosts()) {
      if (h.priority() == 0 && available(h, now) && !h.degraded()) {
        by.merge(h.locality(), 1, Integer::sum);
        total++;
      }
    }
    return new ZoneRouting.LocalView(Map.copyOf(by), total);
  }

  /** slow_start_config: weights scaled for the hosts still in their window (null when none is). */
  private java.util.function.@Nullable ToIntFunction<UpstreamHost> slowStartWeights(long now) {
    ClusterConfig.SlowStart ss = config.slowStart();
    if (ss == null || !inSlowStart(now)) {
      return null;
    }
    // whole weights with room for the ramp: a host at full weight counts 100 per unit of configured weight
    return h -> (int) Math.max(1, Math.min(Integer.MAX_VALUE,
        Math.round(h.weight() * 100.0 * ss.factor((now - h.joinedNanos) / 1_000_000))));
  }

  private boolean inSlowStart(long now) {
    ClusterConfig.SlowStart ss = config.slowStart();
    if (ss == null) {
      return false;
    }
    for (UpstreamHost h : hosts.hosts()) {
      if ((now - h.joinedNanos) / 1_000_000 < ss.windowMs()) {
        return true;
      }
    }
    return false;
  }

  /** Each priority's share of new requests, percent (priority 0 first). */
  public int[] priorityLoads() {
    return available.loads();
  }

  /** An upstream response's status, for outlier detection. */
  public void reportResponse(UpstreamHost host, int status) {
    if (outlier != null) {
      outlier.onResponse(host, status);
    }
  }

  /** A connection failure, reset or timeout on {@code host}, for outlier detection. */
  public void reportLocalFailure(UpstreamHost host) {
    if (outlier != null) {
      outlier.onLocalOriginFailure(host);
    }
  }

  /** Closes this loop's HTTP/1.1 connections idle longer than the pool idle timeout; runs on {@code loop}. */
  void sweepIdle(EventExecutor loop) {
    long idle = config.poolIdleTimeoutMs();
    LoopPools p = pools.get(loop);
    if (idle > 0 && p != null) {
      p.closeIdleOlderThan(TimeUnit.MILLISECONDS.toNanos(idle));
    }
  }

  /** The cluster's {@code metadata.filter_metadata}, decoded from its config on first use (tracing's custom tags). */
  private volatile java.util.@Nullable Map<String, com.google.protobuf.Struct> filterMetadata;

  public java.util.Map<String, com.google.protobuf.Struct> filterMetadata() {
    var m = filterMetadata;
    if (m == null) {
      try {
        m = io.envoyproxy.envoy.config.cluster.v3.Cluster.parseFrom(config.protoBytes()).getMetadata()
            .getFilterMetadataMap();
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        m = java.util.Map.of(); // the bytes were this cluster's own config: not reached
      }
      filterMetadata = m;
    }
    return m;
  }

  /** EDS: the endpoints of a new load assignment; hosts still in it keep their pools. Control thread only. */
  public void setEndpoints(List<ClusterConfig.EndpointConfig> endpoints) {
    edsEndpoints = List.copyOf(endpoints);
    refresh();
  }

  private void refresh() {
    List<UpstreamHost> resolved = new ArrayList<>();
    List<ClusterConfig.EndpointConfig> configured =
        config.type() == ClusterConfig.DiscoveryType.EDS ? edsEndpoints : config.endpoints();
    for (ClusterConfig.EndpointConfig ep : configured) {
      try {
        InetAddress literal = ep.literal();
        InetAddress[] found = literal != null ? new InetAddress[] {literal} : InetAddress.getAllByName(ep.host());
        List<InetAddress> addrs = byFamily(found, config.dnsFamily());
        int n = config.type() == ClusterConfig.DiscoveryType.LOGICAL_DNS ? Math.min(1, addrs.size()) : addrs.size();
        int weight = effectiveWeight(ep);
        for (int i = 0; i < n && weight > 0; i++) {
          resolved.add(new UpstreamHost(new InetSocketAddress(addrs.get(i), ep.port()), ep.hostname(), weight,
              ep.priority(), ep.healthy(), ep.locality()).healthCheck(ep.healthCheck())
              .filterMetadata(ep.filterMetadata()).edsDegraded(ep.degraded()));
        }
        overprovisioning = ep.overprovisioningFactor();
      } catch (UnknownHostException e) {
        logger.warn("cluster {}: cannot resolve {}: {}", config.name(), ep.host(), e.getMessage());
      }
    }
    if (!resolved.equals(hosts.hosts())) {
      // hosts that stay keep their identity (active-request counts, pools keyed by them), taking EDS's new health
      Map<UpstreamHost, UpstreamHost> old = new HashMap<>();
      for (UpstreamHost h : hosts.hosts()) {
        old.put(h, h);
      }
      resolved.replaceAll(h -> {
        UpstreamHost kept = old.get(h);
        if (kept == null) {
          return h;
        }
        kept.healthy(h.edsHealthy());
        kept.edsDegraded(h.edsDegraded());
        kept.healthCheck(h.healthCheck());
        kept.filterMetadata(h.filterMetadata()); // as Envoy: a host's new metadata applies to its next connections
        return kept;
      });
      boolean hostsLeft = !resolved.containsAll(old.keySet());
      if (healthChecker != null) {
        healthChecker.hostsChanged(resolved); // new hosts count as failed until checked, before any request sees them
      }
      hosts = new HostSet(resolved);
      ejectionsChanged();
      updates.membershipChange.inc();
      if (hostsLeft) { // only hosts that left have pools to retire: a new cluster posts no task per event loop
        java.util.Set<UpstreamHost> live = new java.util.HashSet<>(resolved);
        for (LoopPools p : pools.values()) {
          p.loop.execute(() -> p.retireAbsent(live, breaker));
        }
      }
    } else {
      List<UpstreamHost> current = hosts.hosts();
      boolean healthChanged = false;
      for (int i = 0; i < current.size(); i++) {
        UpstreamHost now = current.get(i);
        UpstreamHost told = resolved.get(i);
        if (now.edsHealthy() != told.edsHealthy() || now.edsDegraded() != told.edsDegraded()) {
          now.healthy(told.edsHealthy());
          now.edsDegraded(told.edsDegraded());
          healthChanged = true;
        }
        if (!now.filterMetadata().equals(told.filterMetadata())) {
          now.filterMetadata(told.filterMetadata()); // the same endpoints with new metadata (an Istio workload moved)
        }
      }
      if (healthChanged) {
        ejectionsChanged();
      }
    }
    updates.membershipTotal.set(resolved.size());
    updates.membership(resolved);
  }

  /**
   * With locality_weighted_lb_config, a host's share is its locality's weight split among the locality's hosts by
   * their own weights (the distribution of Envoy's pick-a-locality-then-a-host), scaled to whole weights; localities
   * without a weight get no traffic, as in Envoy.
   */
  private int effectiveWeight(ClusterConfig.EndpointConfig ep) {
    if (!config.localityWeighted()) {
      return ep.weight();
    }
    if (ep.localityShare() <= 0) {
      return 0;
    }
    return (int) Math.max(1, Math.min(1_000_000, Math.round(ep.weight() * ep.localityShare() * 100)));
  }

  /** Envoy's dns_lookup_family: AUTO prefers IPv6 and falls back to IPv4; V4_PREFERRED the other way round. */
  static List<InetAddress> byFamily(InetAddress[] all, ClusterConfig.DnsFamily family) {
    List<InetAddress> v4 = new ArrayList<>();
    List<InetAddress> v6 = new ArrayList<>();
    for (InetAddress a : all) {
      (a instanceof java.net.Inet4Address ? v4 : v6).add(a);
    }
    return switch (family) {
      case V4_ONLY -> v4;
      case V6_ONLY -> v6;
      case V4_PREFERRED -> v4.isEmpty() ? v6 : v4;
      case AUTO -> v6.isEmpty() ? v4 : v6;
      case ALL -> java.util.Arrays.asList(all);
    };
  }

  /** ORIGINAL_DST: the host for a destination, made on first use and kept while used. */
  public UpstreamHost originalDstHost(java.net.InetSocketAddress destination) {
    UpstreamHost h = originalDstHosts.computeIfAbsent(destination, d -> {
      updates.membershipChange.inc();
      return new UpstreamHost(d, io.bowline.core.transport.AddressText.ip(d), 1);
    });
    h.lastUsedNanos = System.nanoTime();
    updates.membershipTotal.set(originalDstHosts.size());
    updates.membershipHealthy.set(originalDstHosts.size());
    return h;
  }

  /** ORIGINAL_DST: drops the hosts no request used for the cleanup interval; their pools close. */
  private void cleanupOriginalDst(long cleanupMs) {
    long now = System.nanoTime();
    boolean removed = originalDstHosts.values().removeIf(h -> h.activeRequests() == 0
        && (now - h.lastUsedNanos) / 1_000_000 >= cleanupMs);
    if (removed) {
      updates.membershipChange.inc();
      updates.membershipTotal.set(originalDstHosts.size());
      updates.membershipHealthy.set(originalDstHosts.size());
      java.util.Set<UpstreamHost> live = new java.util.HashSet<>(originalDstHosts.values());
      for (LoopPools p : pools.values()) {
        p.loop.execute(() -> p.retireAbsent(live, breaker));
      }
    }
  }

  /** The hosts of the priority a new request goes to: by the request's hash where it has one, else at random. */
  private HostSet hostsFor(@Nullable Long hash) {
    PrioritySet priorities = available;
    HostSet set = priorities.single() ? priorities.pick(0) : priorities.pick(hash != null
        ? (int) Long.remainderUnsigned(hash, 100) : java.util.concurrent.ThreadLocalRandom.current().nextInt(100));
    ZoneRouting z = zoneRouting;
    if (z != null && hash == null && set == priorities.priorityZero()) {
      HostSet zoned = z.pick(zones.counters());
      if (zoned != null) {
        return zoned;
      }
    }
    return set;
  }

  /**
   * A host for a new connection (tcp_proxy), chosen as for a request: priorities and their health, ejections, the
   * cluster's load balancer; null when none is available.
   */
  public @Nullable UpstreamHost chooseHost() {
    HostSet set = hostsFor(null);
    if (set.panic) {
      stats().lbHealthyPanic.inc();
    }
    UpstreamHost host = lb.choose(set, null);
    if (host == null) {
      stats().noHealthyHost.inc();
    }
    return host;
  }

  /** Chooses a host and asks this loop's pool for a connection or stream; the answer comes to {@code listener}. */
  public void newStream(EventLoop loop, boolean http2, UpstreamListener listener) {
    newStream(loop, http2, listener, null, 1, null);
  }

  /**
   * The same, for a retry: a host in {@code avoid} (previous_hosts) is chosen again only after
   * {@code selectionAttempts} draws found no other.
   */
  public void newStream(EventLoop loop, boolean http2, UpstreamListener listener,
      java.util.@Nullable Set<UpstreamHost> avoid, int selectionAttempts, @Nullable Long hash) {
    newStream(loop, http2, listener, avoid, selectionAttempts, hash, null);
  }

  /** The same; an ORIGINAL_DST cluster goes to {@code destination} (none: no host, 503). */
  public void newStream(EventLoop loop, boolean http2, UpstreamListener listener,
      java.util.@Nullable Set<UpstreamHost> avoid, int selectionAttempts, @Nullable Long hash,
      java.net.@Nullable InetSocketAddress destination) {
    newStream(loop, http2, listener, avoid, selectionAttempts, hash, destination, null);
  }

  /** The same; a retry under previous_priorities leaves out the priorities in {@code excludedPriorities}. */
  public void newStream(EventLoop loop, boolean http2, UpstreamListener listener,
      java.util.@Nullable Set<UpstreamHost> avoid, int selectionAttempts, @Nullable Long hash,
      java.net.@Nullable InetSocketAddress destination, java.util.@Nullable Set<Integer> excludedPriorities) {
    UpstreamHost host;
    if (config.originalDst() != null) {
      host = destination == null ? null : originalDstHost(destination);
    } else {
      HostSet current = excludedPriorities == null || excludedPriorities.isEmpty() ? hostsFor(hash)
          : available.pickExcluding(hash != null ? (int) Long.remainderUnsigned(hash, 100)
              : java.util.concurrent.ThreadLocalRandom.current().nextInt(100), excludedPriorities);
      if (current.panic) {
        stats().lbHealthyPanic.inc();
      }
      host = lb.choose(current, hash);
      for (int i = 1; avoid != null && host != null && avoid.contains(host) && i < selectionAttempts; i++) {
        host = lb.choose(current, hash == null ? null : hash + i); // a retry moves along the ring, as Envoy does
      }
    }
    if (host == null) {
      stats().noHealthyHost.inc();
      listener.onUpstreamFailure(UpstreamFailure.NO_HEALTHY_HOST, "no healthy upstream");
      return;
    }
    LoopPools p = pools.get(loop);
    if (p == null) {
      throw new IllegalStateException("event loop not owned by this proxy");
    }
    listener.onUpstreamHostSelected(host);
    List<String> alpn = usesTls(host) ? listener.upstreamAlpn() : null;
    if (http2) {
      Http2Pool pool = p.h2(alpn).get(host);
      if (pool == null) {
        if (!breaker.tryConnectionPool()) {
          listener.onUpstreamFailure(UpstreamFailure.OVERFLOW, "max_connection_pools reached");
          return;
        }
        pool = new Http2Pool(this, host, loop, alpn);
        p.add(alpn, host, pool);
      }
      pool.acquire(listener);
    } else {
      Http1Pool pool = p.h1(alpn).get(host);
      if (pool == null) {
        if (!breaker.tryConnectionPool()) {
          listener.onUpstreamFailure(UpstreamFailure.OVERFLOW, "max_connection_pools reached");
          return;
        }
        pool = new Http1Pool(this, host, loop, alpn);
        p.add(alpn, host, pool);
      }
      pool.acquire(listener);
    }
  }

  /** Whether requests to this cluster go over HTTP/2, given the downstream protocol. */
  public boolean usesHttp2(boolean downstreamHttp2) {
    return switch (config.protocol()) {
      case HTTP1 -> false;
      case HTTP2 -> true;
      case USE_DOWNSTREAM -> downstreamHttp2;
    };
  }

  /** A TLS handler for a new upstream connection, or null while the cluster's SDS secrets have not arrived. */
  public @Nullable SslHandler newSslHandler(ByteBufAllocator alloc, UpstreamHost host, @Nullable List<String> alpn) {
    ClusterConfig.TransportSocketMatch m = socketMatchFor(host);
    TlsContextSource tls = m != null ? m.tls() : config.tls();
    io.netty.handler.ssl.SslContext context = tls == null ? null : tls.current(alpn);
    if (context == null) {
      return null;
    }
    String sni = m != null ? m.sni() : config.sni();
    SslHandler h = sni != null && !sni.isEmpty()
        ? context.newHandler(alloc, sni, host.address().getPort())
        : context.newHandler(alloc, host.address().getAddress().getHostAddress(), host.address().getPort());
    if (sni == null || sni.isEmpty()) {
      SSLEngine engine = h.engine();
      SSLParameters params = engine.getSSLParameters();
      params.setServerNames(List.of()); // Envoy sends no SNI unless one is configured
      engine.setSSLParameters(params);
    }
    h.setHandshakeTimeoutMillis(Math.max(1000, config.connectTimeoutMs()));
    stats().ssl().watch(h, false);
    return h;
  }

  /**
   * The cluster's upstream network filters (Istio's metadata exchange) on a new TLS connection, right after the TLS
   * handler: they see the negotiated ALPN, and what they write goes out before the first request.
   */
  public void addUpstreamFilters(io.netty.channel.Channel ch, SslHandler ssl) {
    if (config.upstreamFilters().isEmpty()) {
      return;
    }
    var info = new io.bowline.core.filter.ConnectionInfo((java.net.InetSocketAddress) ch.remoteAddress(),
        (java.net.InetSocketAddress) ch.localAddress(), ssl.engine().getSession(), null, new HashMap<>(2));
    String after = ch.pipeline().context(ssl).name();
    for (var f : config.upstreamFilters()) {
      io.netty.channel.ChannelHandler h = f.handler(info, ssl.applicationProtocol());
      if (h != null) {
        ch.pipeline().addAfter(after, null, h);
        after = ch.pipeline().context(h).name();
      }
    }
  }

  /**
   * The first of the cluster's transport_socket_matches that fits the host's metadata, or null when the cluster has
   * none or none fits (then the cluster's own transport socket applies, as in Envoy).
   */
  private ClusterConfig.@Nullable TransportSocketMatch socketMatchFor(UpstreamHost host) {
    for (ClusterConfig.TransportSocketMatch m : config.socketMatches()) {
      if (m.matches(host.socketMatch())) {
        return m;
      }
    }
    return null;
  }

  /** Whether connections to {@code host} use TLS (the cluster's transport socket, or the host's match). */
  public boolean usesTls(UpstreamHost host) {
    if (config.socketMatches().isEmpty()) {
      return config.tls() != null;
    }
    ClusterConfig.TransportSocketMatch m = socketMatchFor(host);
    return m != null ? m.tls() != null : config.tls() != null;
  }

  /**
   * The pools of one event loop; touched only on that loop. Its maps are the shared empty map until a pool is added:
   * of a mesh's thousands of clusters most are never used by a given proxy, and four empty hash maps per cluster and
   * loop were ~4 MB of heap after a 10,000-cluster push.
   */
  private static final class LoopPools {
    final EventLoop loop;
    private Map<UpstreamHost, Http1Pool> h1 = Collections.emptyMap();
    private Map<UpstreamHost, Http2Pool> h2 = Collections.emptyMap();
    /** Pools of connections that offer other ALPN protocols than the cluster's (istio.alpn), by protocol list. */
    private Map<List<String>, Map<UpstreamHost, Http1Pool>> alpnH1 = Collections.emptyMap();
    private Map<List<String>, Map<UpstreamHost, Http2Pool>> alpnH2 = Collections.emptyMap();

    LoopPools(EventLoop loop) {
      this.loop = loop;
    }

    Map<UpstreamHost, Http1Pool> h1(@Nullable List<String> alpn) {
      return alpn == null ? h1 : alpnH1.getOrDefault(alpn, Collections.emptyMap());
    }

    Map<UpstreamHost, Http2Pool> h2(@Nullable List<String> alpn) {
      return alpn == null ? h2 : alpnH2.getOrDefault(alpn, Collections.emptyMap());
    }

    void add(@Nullable List<String> alpn, UpstreamHost host, Http1Pool pool) {
      if (alpn == null) {
        h1 = with(h1, host, pool);
      } else {
        alpnH1 = with(alpnH1, alpn, with(h1(alpn), host, pool));
      }
    }

    void add(@Nullable List<String> alpn, UpstreamHost host, Http2Pool pool) {
      if (alpn == null) {
        h2 = with(h2, host, pool);
      } else {
        alpnH2 = with(alpnH2, alpn, with(h2(alpn), host, pool));
      }
    }

    /** {@code m} with the entry added: {@code m} itself once it is a map of its own, else a new one. */
    private static <K, V> Map<K, V> with(Map<K, V> m, K key, V value) {
      Map<K, V> out = m instanceof HashMap ? m : new HashMap<>(m);
      out.put(key, value);
      return out;
    }

    /** The HTTP/1 pools by host: the cluster's own, then each ALPN override's. */
    private List<Map<UpstreamHost, Http1Pool>> allH1() {
      if (alpnH1.isEmpty()) {
        return List.of(h1);
      }
      List<Map<UpstreamHost, Http1Pool>> all = new java.util.ArrayList<>(alpnH1.values());
      all.add(h1);
      return all;
    }

    private List<Map<UpstreamHost, Http2Pool>> allH2() {
      if (alpnH2.isEmpty()) {
        return List.of(h2);
      }
      List<Map<UpstreamHost, Http2Pool>> all = new java.util.ArrayList<>(alpnH2.values());
      all.add(h2);
      return all;
    }

    void closeIdleOlderThan(long nanos) {
      allH1().forEach(m -> m.values().forEach(p -> p.closeIdleOlderThan(nanos)));
    }

    /** Pools of hosts no longer in the cluster: requests in flight finish, then their connections close. */
    void retireAbsent(java.util.Set<UpstreamHost> live, CircuitBreaker breaker) {
      allH1().forEach(m -> m.entrySet().removeIf(e -> {
        if (live.contains(e.getKey())) {
          return false;
        }
        e.getValue().retire();
        breaker.connectionPoolClosed();
        return true;
      }));
      allH2().forEach(m -> m.entrySet().removeIf(e -> {
        if (live.contains(e.getKey())) {
          return false;
        }
        e.getValue().closeAll(); // GOAWAY: open streams finish
        breaker.connectionPoolClosed();
        return true;
      }));
    }

    void closeAll() {
      allH1().forEach(m -> m.values().forEach(Http1Pool::retire));
      allH2().forEach(m -> m.values().forEach(Http2Pool::closeAll));
    }
  }
}
