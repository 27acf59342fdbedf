package io.bowline.core.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.compile.ClusterCompiler;
import io.bowline.core.compile.FieldPresence;
import io.bowline.core.compile.CompileContext;
import io.bowline.core.compile.EndpointCompiler;
import io.bowline.core.compile.ListenerCompiler;
import io.bowline.core.compile.BootstrapCompiler;
import io.bowline.core.compile.RouteCompiler;
import io.bowline.core.compile.SecretCompiler;
import io.bowline.core.compile.TlsSources;
import io.bowline.core.config.TlsContextSource;
import io.bowline.xds.ads.XdsTarget;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.config.ProxyConfig;
import io.bowline.core.config.RouteSource;
import io.bowline.core.listener.ListenerManager;
import io.bowline.core.router.RouteTable;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.core.stats.Stats;
import io.bowline.core.upstream.ClusterManager;
import io.bowline.xds.ConfigException;
import io.bowline.xds.ads.AdsClient;
import io.bowline.xds.ads.ResourceHandler;
import io.bowline.xds.ads.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what the ADS stream delivers into the running configuration, through the same compilers as the static
 * bootstrap. Each update of a type is compiled whole before anything changes, so a bad resource rejects the update
 * (NACK naming the resource and field) and leaves the previous configuration in force.
 *
 * <p>Warming follows Envoy: a new EDS cluster joins the cluster manager once its endpoints arrive; a new or changed
 * listener starts accepting (or replaces its previous version) once every RDS route configuration it names has
 * arrived. Each waits at most the initial fetch timeout. The server is initialized (ready) once clusters, their
 * endpoints, listeners and their routes have all arrived, or that timeout has passed.
 *
 * <p>Runs on the xDS client's control thread only.
 */
public final class XdsApplier implements ResourceHandler {
  private static final Logger logger = LoggerFactory.getLogger(XdsApplier.class);

  private final ProxyConfig statics;
  private final CompileContext ctx;
  private final ClusterManager clusterManager;
  private final ListenerManager listenerManager;
  private final long initialFetchTimeoutMs;
  private final Runnable onInitialized;
  private @Nullable AdsClient ads;

  private Map<String, Any> cdsResources = Map.of();
  private Map<String, ClusterConfig> dynamicClusters = Map.of();
  private final Set<String> warmingClusters = new HashSet<>();
  private final Map<String, List<ClusterConfig.EndpointConfig>> endpoints = new HashMap<>();
  private Map<String, Any> edsResources = Map.of();
  private Map<String, Any> ldsResources = Map.of();
  private final Map<String, ListenerConfig> dynamicListeners = new LinkedHashMap<>();
  private final Map<String, Set<String>> listenerRoutes = new HashMap<>();
  private final Map<String, ListenerConfig> warmingListeners = new LinkedHashMap<>();
  private Map<String, Any> rdsResources = Map.of();
  /** Version and time each resource last changed, by type and name. */
  private final Map<String, Map<String, XdsDump.Entry>> changed = new HashMap<>();
  private final Map<String, String> versions = new HashMap<>();
  private volatile XdsDump dump = XdsDump.EMPTY;
  private Map<String, Map<String, Secret>> secretsByStream = Map.of();
  /** The secrets in force for {@code /config_dump}, by name, with the version and time each last changed. */
  private Map<String, XdsDump.Entry> secretEntries = Map.of();
  /** Secret names asked for and when each was first asked for; kept while some context wants it. */
  private final Map<String, java.time.Instant> secretsAskedFor = new HashMap<>();
  private final Map<String, AdsClient> sdsClients = new HashMap<>();
  private boolean cdsReceived;
  private boolean ldsReceived;
  private boolean initialized;

  private final Gauge connectedState;
  private final Counter cdsSuccess;
  private final Counter cdsRejected;
  private final Counter cdsAttempt;
  private final Counter ldsSuccess;
  private final Counter ldsRejected;
  private final Counter ldsAttempt;
  private final Gauge warmingClustersGauge;
  private final Gauge cdsVersion;
  private final Gauge cdsUpdateTime;
  private final Gauge ldsVersion;
  private final Gauge ldsUpdateTime;
  private final Gauge warmingListenersGauge;

  public XdsApplier(ProxyConfig statics, CompileContext ctx, ClusterManager clusterManager,
      ListenerManager listenerManager, Stats stats, long initialFetchTimeoutMs, Runnable onInitialized) {
    this.statics = statics;
    this.ctx = ctx;
    this.clusterManager = clusterManager;
    this.listenerManager = listenerManager;
    this.initialFetchTimeoutMs = initialFetchTimeoutMs;
    this.onInitialized = onInitialized;
    connectedState = stats.gauge("control_plane.connected_state");
    cdsSuccess = stats.counter("cluster_manager.cds.update_success");
    cdsRejected = stats.counter("cluster_manager.cds.update_rejected");
    cdsAttempt = stats.counter("cluster_manager.cds.update_attempt");
    ldsSuccess = stats.counter("listener_manager.lds.update_success");
    ldsRejected = stats.counter("listener_manager.lds.update_rejected");
    ldsAttempt = stats.counter("listener_manager.lds.update_attempt");
    warmingClustersGauge = stats.gauge("cluster_manager.warming_clusters");
    cdsVersion = stats.gauge("cluster_manager.cds.version");
    cdsUpdateTime = stats.gauge("cluster_manager.cds.update_time");
    ldsVersion = stats.gauge("listener_manager.lds.version");
    ldsUpdateTime = stats.gauge("listener_manager.lds.update_time");
    warmingListenersGauge = stats.gauge("listener_manager.total_listeners_warming");
  }

  /** Connects the applier to its stream and starts the initial fetch timer. */
  public void attach(AdsClient client) {
    this.ads = client;
    if (initialFetchTimeoutMs > 0) {
      client.controlThread().schedule(this::initialFetchTimedOut, initialFetchTimeoutMs, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void onConnectionState(boolean connected) {
    connectedState.set(connected ? 1 : 0);
  }

  @Override
  public void onUpdateResult(String typeUrl, boolean accepted, String detail) {
    switch (typeUrl) {
      case TypeUrls.CLUSTER -> {
        cdsAttempt.inc();
        (accepted ? cdsSuccess : cdsRejected).inc();
      }
      case TypeUrls.LISTENER -> {
        ldsAttempt.inc();
        (accepted ? ldsSuccess : ldsRejected).inc();
      }
      default -> { }
    }
  }

  @Override
  public void onResources(String typeUrl, Map<String, Any> resources, String version) throws ConfigException {
    switch (typeUrl) {
      case TypeUrls.CLUSTER -> onClusters(resources);
      case TypeUrls.ENDPOINT -> onEndpoints(resources);
      case TypeUrls.LISTENER -> onListeners(resources);
      case TypeUrls.ROUTE -> onRoutes(resources);
      case TypeUrls.SECRET -> onSecrets("ads", resources, version);
      default -> throw new ConfigException("type_url", "bowline does not take " + typeUrl + " resources yet");
    }
    record(typeUrl, resources, version);
    checkInitialized();
  }

  /** What {@code /config_dump} shows of the dynamic configuration; safe from any thread. */
  public XdsDump dump() {
    return dump;
  }

  private void record(String typeUrl, Map<String, Any> resources, String version) {
    versions.put(typeUrl, version);
    // Envoy's version gauge is a hash of the contents last accepted; update_time is the wall-clock time in ms
    long hash = contentHash(resources);
    if (typeUrl.equals(TypeUrls.CLUSTER)) {
      cdsVersion.set(hash);
      cdsUpdateTime.set(System.currentTimeMillis());
    } else if (typeUrl.equals(TypeUrls.LISTENER)) {
      ldsVersion.set(hash);
      ldsUpdateTime.set(System.currentTimeMillis());
    }
    Map<String, XdsDump.Entry> was = changed.getOrDefault(typeUrl, Map.of());
    Map<String, XdsDump.Entry> now = new LinkedHashMap<>();
    java.time.Instant at = java.time.Instant.now();
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      XdsDump.Entry old = was.get(e.getKey());
      now.put(e.getKey(), old != null && old.resource().equals(e.getValue()) ? old
          : new XdsDump.Entry(e.getKey(), e.getValue(), version, at));
    }
    changed.put(typeUrl, now);
    publishDump();
  }

  private void publishDump() {
    Map<String, XdsDump.Entry> clusters = changed.getOrDefault(TypeUrls.CLUSTER, Map.of());
    Map<String, XdsDump.Entry> listeners = changed.getOrDefault(TypeUrls.LISTENER, Map.of());
    List<XdsDump.Entry> activeClusters = new ArrayList<>();
    List<XdsDump.Entry> warmClusters = new ArrayList<>();
    for (XdsDump.Entry e : clusters.values()) {
      (warmingClusters.contains(e.name()) ? warmClusters : activeClusters).add(e);
    }
    List<XdsDump.Entry> activeListeners = new ArrayList<>();
    List<XdsDump.Entry> warmListeners = new ArrayList<>();
    for (XdsDump.Entry e : listeners.values()) {
      (warmingListeners.containsKey(e.name()) ? warmListeners : activeListeners).add(e);
    }
    List<XdsDump.Entry> warmSecrets = new ArrayList<>();
    secretsAskedFor.forEach((name, at) -> {
      if (!secretEntries.containsKey(name)) {
        warmSecrets.add(new XdsDump.Entry(name, Any.pack(Secret.newBuilder().setName(name).build()),
            XdsDump.UNINITIALIZED, at));
      }
    });
    dump = new XdsDump(versions.getOrDefault(TypeUrls.CLUSTER, ""), versions.getOrDefault(TypeUrls.LISTENER, ""),
        List.copyOf(activeClusters), List.copyOf(warmClusters), List.copyOf(activeListeners),
        List.copyOf(warmListeners), List.copyOf(changed.getOrDefault(TypeUrls.ROUTE, Map.of()).values()),
        List.copyOf(changed.getOrDefault(TypeUrls.ENDPOINT, Map.of()).values()), List.copyOf(secretEntries.values()),
        List.copyOf(warmSecrets));
  }

  // ------------------------------------------------------------------------------------------------ clusters

  private void onClusters(Map<String, Any> resources) throws ConfigException {
    Map<String, ClusterConfig> compiled = new LinkedHashMap<>();
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      String name = e.getKey();
      String path = "Cluster[" + name + "]";
      if (statics.clusters().containsKey(name)) {
        throw new ConfigException(path + ".name", "a static cluster has that name");
      }
      ClusterConfig previous = dynamicClusters.get(name);
      if (previous != null && e.getValue().equals(cdsResources.get(name))) {
        compiled.put(name, previous); // unchanged: not compiled again
        continue;
      }
      Cluster proto = unpack(e.getValue(), Cluster.class, path);
      ClusterConfig c = FieldPresence.walking(e.getValue().getValue(), Cluster.getDescriptor(),
          () -> ClusterCompiler.compile(proto, e.getValue().getValue(), path, ctx));
      TlsSources.register(TlsSources.of(c), path + ".transport_socket", ctx, staticSecretNames());
      compiled.put(name, c);
    }
    cdsResources = resources;
    dynamicClusters = compiled;
    warmingClusters.clear();
    for (ClusterConfig c : compiled.values()) {
      if (!clusterReady(c)) {
        warmingClusters.add(c.name());
      }
    }
    cdsReceived = true;
    // the load assignments are asked for first, as Envoy does (before the CDS ACK)
    Set<String> edsNames = new HashSet<>();
    for (ClusterConfig c : allClusters(true).values()) {
      if (c.edsServiceName() != null) {
        edsNames.add(c.edsServiceName());
      }
    }
    subscribe(TypeUrls.ENDPOINT, edsNames);
    updateSecretSubscriptions();
    publishClusters();
  }

  private void onEndpoints(Map<String, Any> resources) throws ConfigException {
    Map<String, List<ClusterConfig.EndpointConfig>> compiled = new HashMap<>();
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      String path = "ClusterLoadAssignment[" + e.getKey() + "]";
      if (e.getValue().equals(edsResources.get(e.getKey())) && endpoints.containsKey(e.getKey())) {
        continue;
      }
      try {
        ClusterLoadAssignment proto = unpack(e.getValue(), ClusterLoadAssignment.class, path);
        compiled.put(e.getKey(), FieldPresence.walking(e.getValue().getValue(), ClusterLoadAssignment.getDescriptor(),
            () -> EndpointCompiler.compile(proto, path, true)));
      } catch (ConfigException ex) {
        clusterManager.endpointsRejected(e.getKey());
        throw ex;
      }
    }
    edsResources = resources;
    endpoints.keySet().retainAll(resources.keySet());
    for (Map.Entry<String, List<ClusterConfig.EndpointConfig>> e : compiled.entrySet()) {
      endpoints.put(e.getKey(), e.getValue());
      clusterManager.updateEndpoints(e.getKey(), e.getValue());
    }
    promoteWarmClusters();
  }

  /** A cluster warms until its endpoints (EDS) and its TLS secrets (SDS) have arrived. */
  private boolean clusterReady(ClusterConfig c) {
    return (c.edsServiceName() == null || endpoints.containsKey(c.edsServiceName()))
        && TlsSources.ready(TlsSources.of(c));
  }

  private void promoteWarmClusters() {
    boolean promoted = warmingClusters.removeIf(name -> {
      ClusterConfig c = dynamicClusters.get(name);
      return c == null || clusterReady(c);
    });
    if (promoted) {
      publishClusters();
    }
  }

  /** Static clusters and the dynamic ones that finished warming (or all of them, for subscriptions). */
  private Map<String, ClusterConfig> allClusters(boolean includingWarming) {
    Map<String, ClusterConfig> all = new LinkedHashMap<>(statics.clusters());
    for (ClusterConfig c : dynamicClusters.values()) {
      if (includingWarming || !warmingClusters.contains(c.name())) {
        all.put(c.name(), c);
      }
    }
    return all;
  }

  private void publishClusters() {
    Map<String, ClusterConfig> active = allClusters(false);
    clusterManager.update(active, endpoints::get);
    ctx.setKnownClusters(allClusters(true).keySet());
    warmingClustersGauge.set(warmingClusters.size());
  }

  // ------------------------------------------------------------------------------------------------ listeners

  private void onListeners(Map<String, Any> resources) throws ConfigException {
    Map<String, ListenerConfig> changed = new LinkedHashMap<>();
    Map<String, Set<String>> routesOf = new HashMap<>();
    Set<java.net.InetSocketAddress> addresses = new HashSet<>();
    for (ListenerConfig l : statics.listeners()) {
      addresses.add(l.address());
    }
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      String name = e.getKey();
      String path = "Listener[" + name + "]";
      for (ListenerConfig st : statics.listeners()) {
        if (st.name().equals(name)) {
          throw new ConfigException(path + ".name", "a static listener has that name");
        }
      }
      Listener proto = unpack(e.getValue(), Listener.class, path);
      if (e.getValue().equals(ldsResources.get(name)) && (dynamicListeners.containsKey(name)
          || warmingListeners.containsKey(name))) {
        ListenerConfig kept = warmingListeners.containsKey(name) ? warmingListeners.get(name)
            : dynamicListeners.get(name);
        if (kept.address().getPort() != 0 && !addresses.add(kept.address())) {
          throw new ConfigException(path + ".address", "another listener is bound to " + kept.address());
        }
        continue;
      }
      ctx.takeRdsUsed();
      ListenerConfig l = FieldPresence.walking(e.getValue().getValue(), Listener.getDescriptor(),
          () -> ListenerCompiler.compile(proto, path, ctx));
      TlsSources.register(TlsSources.of(l), path + ".filter_chains", ctx, staticSecretNames());
      if (!l.name().equals(name)) {
        throw new ConfigException(path + ".name", "required");
      }
      if (l.address().getPort() != 0 && !addresses.add(l.address())) {
        throw new ConfigException(path + ".address", "another listener is bound to " + l.address());
      }
      changed.put(name, l);
      routesOf.put(name, ctx.takeRdsUsed());
    }
    Set<String> removed = new HashSet<>(ldsResources.keySet());
    removed.removeAll(resources.keySet());
    ldsResources = resources;
    ldsReceived = true;
    for (String name : removed) {
      dynamicListeners.remove(name);
      warmingListeners.remove(name);
      listenerRoutes.remove(name);
    }
    for (Map.Entry<String, ListenerConfig> e : changed.entrySet()) {
      warmingListeners.put(e.getKey(), e.getValue());
      listenerRoutes.put(e.getKey(), routesOf.get(e.getKey()));
    }
    Set<String> rdsNames = new HashSet<>();
    listenerRoutes.values().forEach(rdsNames::addAll);
    List<String> failures = listenerManager.update(List.of(), removed);
    failures.forEach(f -> logger.warn("LDS: {}", f));
    subscribe(TypeUrls.ROUTE, rdsNames);
    updateSecretSubscriptions();
    promoteWarmListeners();
  }

  /** Listeners whose routes have all arrived start (or replace their previous version). */
  private void promoteWarmListeners() {
    List<ListenerConfig> ready = new ArrayList<>();
    warmingListeners.entrySet().removeIf(e -> {
      for (String route : listenerRoutes.getOrDefault(e.getKey(), Set.of())) {
        RouteSource s = ctx.rdsSource(route);
        if (s == null || !s.isReady()) {
          return false;
        }
      }
      if (!TlsSources.ready(TlsSources.of(e.getValue()))) {
        return false; // its TLS secrets have not arrived
      }
      ready.add(e.getValue());
      dynamicListeners.put(e.getKey(), e.getValue());
      return true;
    });
    warmingListenersGauge.set(warmingListeners.size());
    if (!ready.isEmpty()) {
      listenerManager.update(ready, Set.of()).forEach(f -> logger.warn("LDS: {}", f));
    }
  }

  // ------------------------------------------------------------------------------------------------ routes

  private void onRoutes(Map<String, Any> resources) throws ConfigException {
    Map<String, RouteTable> compiled = new LinkedHashMap<>();
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      String name = e.getKey();
      String path = "RouteConfiguration[" + name + "]";
      RouteSource source = ctx.rdsSource(name);
      if (e.getValue().equals(rdsResources.get(name)) && source != null && source.isReady()) {
        continue;
      }
      try {
        RouteConfiguration rc = unpack(e.getValue(), RouteConfiguration.class, path);
        RouteTable table = FieldPresence.walking(e.getValue().getValue(), RouteConfiguration.getDescriptor(),
            () -> RouteCompiler.compile(rc, path, ctx.filters(), ctx.stats()));
        // Envoy validates the clusters of an RDS route table only when validate_clusters is set to true
        if (rc.hasValidateClusters() && rc.getValidateClusters().getValue()) {
          ctx.validateClusters(table, path);
        }
        compiled.put(name, table);
      } catch (ConfigException ex) {
        if (source != null) {
          source.rejected();
        }
        throw ex;
      }
    }
    rdsResources = resources;
    for (Map.Entry<String, RouteTable> e : compiled.entrySet()) {
      RouteSource source = ctx.rdsSource(e.getKey());
      if (source != null) {
        source.publish(e.getValue());
      }
    }
    promoteWarmListeners();
  }

  // ------------------------------------------------------------------------------------------------ secrets

  private Set<String> staticSecretNames() {
    Set<String> names = new HashSet<>();
    for (var secret : statics.bootstrap().getStaticResources().getSecretsList()) {
      names.add(secret.getName());
    }
    return names;
  }

  /**
   * Secrets from one stream ({@code ads}, or {@code sds:<cluster>}): checked against every TLS context that uses
   * them before anything changes (a bad certificate is NACKed, the old one stays), then applied: new handshakes
   * use the new certificate, open connections keep theirs.
   */
  private void onSecrets(String stream, Map<String, Any> resources, String version) throws ConfigException {
    Map<String, Secret> fromStream = new HashMap<>();
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      String path = "Secret[" + e.getKey() + "]";
      Secret secret = unpack(e.getValue(), Secret.class, path);
      SecretCompiler.check(secret, path);
      fromStream.put(e.getKey(), secret);
    }
    Map<String, Map<String, Secret>> next = new HashMap<>(secretsByStream);
    next.put(stream, fromStream);
    Map<String, Secret> all = new HashMap<>();
    next.values().forEach(all::putAll);
    List<String> errors = ctx.secrets().check(all);
    if (!errors.isEmpty()) {
      throw new ConfigException("Secret", "unusable TLS secret: " + errors.get(0));
    }
    secretsByStream = next;
    ctx.secrets().update(all);
    recordSecrets(resources, version);
    promoteWarmClusters();
    promoteWarmListeners();
  }

  /**
   * The SDS secrets for {@code /config_dump}: each with the version of the response that last changed it and when;
   * a secret another stream serves keeps its entry. The time a wanted secret was first asked for, for the warming ones.
   */
  private void recordSecrets(Map<String, Any> resources, String version) {
    java.time.Instant at = java.time.Instant.now();
    Map<String, XdsDump.Entry> next = new LinkedHashMap<>(secretEntries);
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      XdsDump.Entry old = next.get(e.getKey());
      if (old == null || !old.resource().equals(e.getValue())) {
        next.put(e.getKey(), new XdsDump.Entry(e.getKey(), e.getValue(), version, at));
      }
    }
    Set<String> served = new HashSet<>();
    secretsByStream.values().forEach(m -> served.addAll(m.keySet()));
    next.keySet().retainAll(served);
    secretEntries = next;
    publishDump();
  }

  /** Subscribes each stream to the secret names the configuration in force (or warming) uses. */
  private void updateSecretSubscriptions() {
    Set<TlsContextSource> live = new HashSet<>();
    for (ClusterConfig c : allClusters(true).values()) {
      live.addAll(TlsSources.of(c));
    }
    for (ListenerConfig l : statics.listeners()) {
      live.addAll(TlsSources.of(l));
    }
    dynamicListeners.values().forEach(l -> live.addAll(TlsSources.of(l)));
    warmingListeners.values().forEach(l -> live.addAll(TlsSources.of(l)));
    ctx.secrets().retainOnly(live);
    Set<String> viaAds = new HashSet<>();
    Map<String, Set<String>> viaCluster = new HashMap<>();
    for (TlsContextSource s : live) {
      for (TlsContextSource.SecretRef r : s.refs()) {
        switch (r.kind()) {
          case ADS -> viaAds.add(r.name());
          case SDS_CLUSTER -> viaCluster.computeIfAbsent(r.cluster(), k -> new HashSet<>()).add(r.name());
          default -> { }
        }
      }
    }
    subscribe(TypeUrls.SECRET, viaAds);
    for (Map.Entry<String, Set<String>> e : viaCluster.entrySet()) {
      AdsClient client = sdsClients.get(e.getKey());
      if (client == null) {
        client = startSds(e.getKey());
        if (client == null) {
          continue;
        }
      }
      client.subscribe(TypeUrls.SECRET, e.getValue());
    }
    for (Map.Entry<String, AdsClient> e : sdsClients.entrySet()) {
      if (!viaCluster.containsKey(e.getKey())) {
        e.getValue().subscribe(TypeUrls.SECRET, Set.of());
      }
    }
    Set<String> asked = new HashSet<>(viaAds);
    viaCluster.values().forEach(asked::addAll);
    secretsAskedFor.keySet().retainAll(asked);
    java.time.Instant now = java.time.Instant.now();
    asked.forEach(name -> secretsAskedFor.putIfAbsent(name, now));
    publishDump();
  }

  /** A state-of-the-world SDS stream to a static cluster (pilot-agent's sds-grpc socket), on this thread. */
  private @Nullable AdsClient startSds(String cluster) {
    XdsTarget target;
    try {
      target = BootstrapCompiler.target(statics.bootstrap(), cluster, "sds_config.envoy_grpc.cluster_name");
    } catch (ConfigException e) {
      logger.warn("SDS: {}", e.getMessage());
      return null;
    }
    String stream = "sds:" + cluster;
    ResourceHandler sdsHandler = new ResourceHandler() {
      @Override
      public void onResources(String typeUrl, Map<String, Any> resources, String version) throws ConfigException {
        onSecrets(stream, resources, version);
        checkInitialized();
      }
    };
    AdsClient client = new AdsClient(target, statics.xds().node(), AdsClient.Mode.SOTW,
        statics.xds().nodeOnFirstMessageOnly(), sdsHandler, AdsClient.Service.SDS, ads.controlThread());
    sdsClients.put(cluster, client);
    client.start();
    return client;
  }

  /** Closes the SDS streams (the ADS stream is the server's to close). */
  public void close() {
    sdsClients.values().forEach(AdsClient::close);
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  private void subscribe(String typeUrl, Set<String> names) {
    if (ads != null) {
      ads.subscribe(typeUrl, names);
    }
  }

  private void checkInitialized() {
    if (initialized) {
      return;
    }
    boolean clustersDone = !statics.xds().cds() || (cdsReceived && warmingClusters.isEmpty());
    boolean listenersDone = !statics.xds().lds() || (ldsReceived && warmingListeners.isEmpty());
    if (clustersDone && listenersDone) {
      initialized = true;
      logger.info("xDS: initial configuration complete: {} cluster(s), {} listener(s)", dynamicClusters.size(),
          dynamicListeners.size());
      onInitialized.run();
    }
  }

  private void initialFetchTimedOut() {
    if (initialized) {
      return;
    }
    logger.warn("xDS: initial fetch timeout: {} cluster(s) and {} listener(s) still warming; starting with what "
        + "has arrived", warmingClusters.size(), warmingListeners.size());
    if (!warmingClusters.isEmpty()) {
      warmingClusters.clear();
      publishClusters();
    }
    initialized = true;
    publishDump();
    onInitialized.run();
  }

  /** A 63-bit hash of the resources (order-independent), standing in for Envoy's hash of the fetched contents. */
  static long contentHash(Map<String, Any> resources) {
    long h = 0;
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      long x = (e.getKey().hashCode() * 0x9E3779B97F4A7C15L) ^ e.getValue().hashCode();
      h += x * 0xBF58476D1CE4E5B9L;
    }
    return h & Long.MAX_VALUE;
  }

  private static <T extends com.google.protobuf.Message> T unpack(Any any, Class<T> type, String path)
      throws ConfigException {
    try {
      return io.bowline.core.compile.Anys.unpack(any, type);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage());
    }
  }
}
