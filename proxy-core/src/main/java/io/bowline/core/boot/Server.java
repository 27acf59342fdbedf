package io.bowline.core.boot;

import io.bowline.core.admin.AdminContext;
import io.bowline.core.admin.AdminServer;
import io.bowline.core.compile.BootstrapCompiler;
import io.bowline.core.compile.CompileContext;
import io.bowline.core.config.ConfigStore;
import io.bowline.core.config.ProxyConfig;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.listener.ChainInstaller;
import io.bowline.core.listener.ConnectionTracker;
import io.bowline.core.listener.ListenerManager;
import io.bowline.core.stats.Stats;
import io.bowline.core.transport.Transport;
import io.bowline.core.upstream.ClusterManager;
import io.bowline.core.xds.XdsApplier;
import io.bowline.xds.ads.AdsClient;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: event loops, clusters, listeners and the admin server, and the lifecycle that ends it. Drain
 * (SIGTERM or /quitquitquit) stops accepting, asks every connection to finish (HTTP/1.1 "Connection: close", HTTP/2
 * GOAWAY), waits for them up to the drain time, and then stops.
 */
public final class Server implements AdminContext {
  private static final Logger logger = LoggerFactory.getLogger(Server.class);

  private final Options options;
  private final Stats stats = new Stats();
  private final Transport transport;
  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup workers;
  private final ClusterManager clusters;
  private final ConnectionTracker tracker = new ConnectionTracker();
  private final ListenerManager listeners;
  private final ConfigStore store;
  private final CompileContext compileContext;
  private final long startMillis = System.currentTimeMillis();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private @Nullable AdminServer admin;
  private @Nullable AdsClient ads;
  private volatile @Nullable XdsApplier xdsApplier;
  private volatile String state = "PRE_INITIALIZING";
  private volatile boolean workersStarted;
  private volatile boolean healthCheckFailed;
  private volatile boolean shuttingDown;

  public Server(Options options, Bootstrap bootstrap, FilterRegistry filters) throws ConfigException {
    this.options = options;
    long drainMs = TimeUnit.SECONDS.toMillis(options.drainTimeSeconds);
    this.compileContext = new CompileContext(stats, filters, options.fileFlushIntervalMs, Math.min(drainMs, 5000));
    compileContext.allowUnsupportedStaticFields(options.allowUnknownStaticFields);
    ProxyConfig config = BootstrapCompiler.compile(bootstrap, options.serviceNode, options.serviceCluster,
        compileContext);
    this.store = new ConfigStore(config);
    compileContext.warnings().forEach(w -> logger.warn("{}", w));
    this.transport = Transport.of(config.socketInterface());
    this.acceptGroup = transport.newGroup(1, "bowline-accept");
    this.workers = transport.newGroup(options.concurrency, "bowline-worker",
        config.bootstrap().getEnableDispatcherStats() ? stats : null);
    this.clusters = new ClusterManager(stats, transport, workers);
    compileContext.attach(clusters);
    this.listeners = new ListenerManager(acceptGroup, workers, transport,
        new ChainInstaller(clusters, transport, Math.min(drainMs, 5000)), tracker, drainMs);
    stats.computedGauge("server.live", () -> state.equals("LIVE") ? 1 : 0);
    stats.computedGauge("server.uptime", this::uptimeSeconds);
    stats.computedGauge("server.concurrency", () -> options.concurrency);
    stats.computedGauge("server.state", () -> switch (state) { // Envoy's ServerInfo.State numbers
      case "LIVE" -> 0;
      case "DRAINING" -> 1;
      case "PRE_INITIALIZING" -> 2;
      default -> 3; // INITIALIZING: waiting for the first complete xDS configuration
    });
    stats.computedGauge("server.total_connections", tracker::openConnections);
    // Envoy's "listeners have been initialized on the workers": 1 from the first time the server is LIVE (after the
    // first complete xDS configuration); Istio's pilot-agent reads it with server.state for the pod's readiness
    stats.computedGauge("listener_manager.workers_started", () -> workersStarted ? 1 : 0);
    // Envoy's memory gauges: the heap's used and committed bytes, and the process's resident set
    java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
    stats.computedGauge("server.memory_allocated", () -> memory.getHeapMemoryUsage().getUsed());
    stats.computedGauge("server.memory_heap_size", () -> memory.getHeapMemoryUsage().getCommitted());
    stats.computedGauge("server.memory_physical_size", Server::residentBytes);
    stats.computedGauge("server.parent_connections", () -> 0); // no hot restart: never a parent
    stats.computedGauge("server.hot_restart_epoch", () -> 0);
  }

  /** Resolves clusters, binds listeners and the admin server; the server is LIVE when this returns. */
  public void start() throws java.io.IOException {
    ProxyConfig config = store.get();
    if (config.node().localCluster() != null) {
      clusters.zoneAware(config.node().locality(), config.node().localCluster());
    }
    clusters.update(config.clusters());
    if (config.admin().address() != null) {
      admin = AdminServer.start(config.admin().address(), this, transport);
      logger.info("admin address: {}", admin.localAddress());
      if (options.adminAddressPath != null) {
        java.nio.file.Path p = java.nio.file.Path.of(options.adminAddressPath);
        java.nio.file.Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
        java.nio.file.Files.writeString(tmp, io.bowline.core.transport.AddressText.of(admin.localAddress()));
        java.nio.file.Files.move(tmp, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    }
    listeners.start(config.listeners());
    if (config.xds() != null) {
      state = "INITIALIZING"; // /ready answers 503 until the first complete configuration has arrived
      XdsApplier applier = new XdsApplier(config, compileContext, clusters, listeners, stats,
          config.xds().initialFetchTimeoutMs(), () -> {
            if (!shuttingDown) {
              state = "LIVE";
              workersStarted = true;
            }
          });
      AdsClient client = new AdsClient(config.xds().target(), config.xds().node(), config.xds().mode(),
          config.xds().nodeOnFirstMessageOnly(), applier);
      applier.attach(client);
      ads = client;
      xdsApplier = applier;
      client.start();
    } else {
      state = "LIVE";
      workersStarted = true;
    }
    logger.info("bowline started: {} worker(s) on {}, {} listener(s), {} cluster(s)", options.concurrency,
        transport.name(), config.listeners().size(), config.clusters().size());
  }

  public @Nullable InetSocketAddress adminAddress() {
    return admin == null ? null : admin.localAddress();
  }

  /** The bound address of a listener by name (its port when configured as 0). */
  public @Nullable InetSocketAddress listenerAddress(String name) {
    for (var b : listeners.bound()) {
      if (b.config().name().equals(name)) {
        return b.localAddress();
      }
    }
    return null;
  }

  /** Drains and stops; returns when done. Safe to call more than once and from any thread. */
  public void shutdown() {
    synchronized (this) {
      if (shuttingDown) {
        awaitStopped();
        return;
      }
      shuttingDown = true;
    }
    state = "DRAINING";
    logger.info("draining: {} open connection(s), up to {} s", tracker.openConnections(), options.drainTimeSeconds);
    XdsApplier applier = xdsApplier;
    if (applier != null) {
      applier.close();
    }
    if (ads != null) {
      ads.close();
    }
    listeners.stopAccepting();
    tracker.drainAll(true);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.drainTimeSeconds);
    awaitDownstreamClosed(deadline);
    if (tracker.openConnections() > 0) {
      logger.warn("drain time over: closing {} connection(s)", tracker.openConnections());
      tracker.closeAll();
      // every connection closed before its event loop stops (io_uring closes asynchronously)
      awaitDownstreamClosed(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
    }
    clusters.shutdown(2000);
    if (admin != null) {
      admin.stop();
    }
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    compileContext.closeWriters();
    logger.info("bowline stopped");
    stopped.countDown();
  }

  private void awaitDownstreamClosed(long deadlineNanos) {
    while (tracker.openConnections() > 0 && System.nanoTime() < deadlineNanos) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  public void awaitStopped() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ AdminContext

  @Override
  public Stats stats() {
    return stats;
  }

  @Override
  public io.bowline.core.xds.XdsDump xdsDump() {
    XdsApplier a = xdsApplier;
    return a == null ? io.bowline.core.xds.XdsDump.EMPTY : a.dump();
  }

  @Override
  public ProxyConfig config() {
    return store.get();
  }

  @Override
  public ClusterManager clusters() {
    return clusters;
  }

  @Override
  public ListenerManager listeners() {
    return listeners;
  }

  @Override
  public String state() {
    return state;
  }

  @Override
  public long uptimeSeconds() {
    return (System.currentTimeMillis() - startMillis) / 1000;
  }

  @Override
  public Map<String, Object> commandLineOptions() {
    return options.given();
  }

  @Override
  public void quit() {
    Thread t = new Thread(this::shutdown, "bowline-quit");
    t.start();
  }

  @Override
  public void drainListeners(boolean graceful) {
    Thread t = new Thread(() -> {
      if (graceful) {
        state = "DRAINING";
        tracker.drainAll(true);
      }
      listeners.stopAccepting();
    }, "bowline-drain-listeners");
    t.start();
  }

  @Override
  public void setHealthCheckFailed(boolean failed) {
    healthCheckFailed = failed;
    stats.gauge("server.healthcheck_failed").set(failed ? 1 : 0);
  }

  @Override
  public String meshMetricsPrometheus() {
    return compileContext.meters().scrape();
  }

  /** VmRSS from /proc (0 where there is no /proc). */
  private static long residentBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      // not Linux
    }
    return 0;
  }

  @Override
  public void reopenLogs() {
    compileContext.accessLogWriter().reopen();
  }

  @Override
  public boolean healthCheckFailed() {
    return healthCheckFailed;
  }

  @Override
  public Map<String, String> logLevels() {
    return Logging.levels();
  }

  @Override
  public boolean setLogLevel(@Nullable String component, String level) {
    return component == null ? Logging.setAll(level) : Logging.set(component, level);
  }

  @Override
  public java.util.List<String> logComponents() {
    return Logging.components();
  }
}
