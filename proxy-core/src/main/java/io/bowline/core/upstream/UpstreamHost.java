package io.bowline.core.upstream;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** One endpoint of a cluster, shared by every event loop; {@link #activeRequests} feeds LEAST_REQUEST. */
public final class UpstreamHost {
  private final InetSocketAddress address;
  /** {@link #addressString()}, formatted when first asked (a large EDS push formats none). */
  private @org.jspecify.annotations.Nullable String addressText;
  private final String hostname;
  private final int weight;
  private final int priority;
  /** Its locality key ("" for none), for zone-aware routing. */
  private final String locality;
  /** Where and whether active health checks probe it. */
  private volatile io.bowline.core.config.ClusterConfig.HealthCheckTarget healthCheck =
      io.bowline.core.config.ClusterConfig.HealthCheckTarget.DEFAULT;
  /** What EDS says; an unhealthy host takes no new requests but counts in its priority's health. */
  private volatile boolean healthy;
  /** EDS says DEGRADED: it takes requests only when its priority's healthy hosts are not enough (Envoy). */
  private volatile boolean degraded;
  /** Its last passed active HTTP health check answered with {@code x-envoy-degraded}: the same, until one does not. */
  private volatile boolean activeDegraded;
  final AtomicInteger activeRequests = new AtomicInteger();
  /** When the host joined its cluster: slow start counts from here. */
  final long joinedNanos = System.nanoTime();
  /** When a request last chose it (ORIGINAL_DST clusters drop hosts unused for their cleanup interval). */
  volatile long lastUsedNanos = joinedNanos;
  /** Active health checking's view: not checked, pending its first check, failed, or passed. */
  private final java.util.concurrent.atomic.AtomicInteger activeHealth = new java.util.concurrent.atomic.AtomicInteger();
  private static final int NOT_CHECKED = 0;
  private static final int PENDING = 1;
  private static final int FAILED = 2;
  private static final int PASSED = 3;
  /** Outlier detection's view of this host (used only by clusters that configure it). */
  final OutlierDetector.HostState outlier = new OutlierDetector.HostState();

  public UpstreamHost(InetSocketAddress address, String hostname, int weight) {
    this(address, hostname, weight, 0, true);
  }

  public UpstreamHost(InetSocketAddress address, String hostname, int weight, int priority, boolean healthy) {
    this(address, hostname, weight, priority, healthy, "");
  }

  public UpstreamHost(InetSocketAddress address, String hostname, int weight, int priority, boolean healthy,
      String locality) {
    this.locality = locality;
    this.address = address;
    this.hostname = hostname;
    this.weight = weight;
    this.priority = priority;
    this.healthy = healthy;
  }

  /** Whether outlier detection holds this host out now. */
  public boolean ejected() {
    return outlier.ejected(System.nanoTime());
  }

  /**
   * Envoy's admin health flags: "healthy", or "/failed_active_hc", "/pending_active_hc", "/failed_eds_health",
   * "/degraded_eds_health", "/degraded_active_hc" and "/failed_outlier_check" as they apply.
   */
  public String healthFlags() {
    int hc = activeHealth.get();
    String flags = (hc == FAILED || hc == PENDING ? "/failed_active_hc" : "") + (hc == PENDING ? "/pending_active_hc"
        : "") + (healthy ? "" : "/failed_eds_health") + (degraded ? "/degraded_eds_health" : "")
        + (activeDegraded ? "/degraded_active_hc" : "") + (ejected() ? "/failed_outlier_check" : "");
    return flags.isEmpty() ? "healthy" : flags;
  }

  /** A host new to a health-checked cluster counts as failed until its first check (once; later calls keep state). */
  void activeHealthPending() {
    activeHealth.compareAndSet(NOT_CHECKED, PENDING);
  }

  boolean activeHealthFailed() {
    int s = activeHealth.get();
    return s == PENDING || s == FAILED;
  }

  boolean activeHealthIsPending() {
    return activeHealth.get() == PENDING;
  }

  /** The result that changed the host's active health. */
  void activeHealth(boolean failed) {
    activeHealth.set(failed ? FAILED : PASSED);
  }

  public int priority() {
    return priority;
  }

  public String locality() {
    return locality;
  }

  io.bowline.core.config.ClusterConfig.HealthCheckTarget healthCheck() {
    return healthCheck;
  }

  /**
   * The endpoint's {@code metadata.filter_metadata}: {@code envoy.transport_socket_match} picks its transport socket,
   * Istio's {@code istio.workload} names it in Istio's metrics. Written by the control thread, read on event loops.
   */
  private volatile java.util.Map<String, com.google.protobuf.Struct> filterMetadata = java.util.Map.of();

  UpstreamHost filterMetadata(java.util.Map<String, com.google.protobuf.Struct> metadata) {
    this.filterMetadata = metadata;
    return this;
  }

  public java.util.Map<String, com.google.protobuf.Struct> filterMetadata() {
    return filterMetadata;
  }

  java.util.Map<String, com.google.protobuf.Value> socketMatch() {
    com.google.protobuf.Struct match = filterMetadata.get("envoy.transport_socket_match");
    return match == null ? java.util.Map.of() : match.getFieldsMap();
  }

  UpstreamHost healthCheck(io.bowline.core.config.ClusterConfig.HealthCheckTarget target) {
    this.healthCheck = target;
    return this;
  }

  /** The address health checks connect to: the endpoint's, or its health_check_config port. */
  InetSocketAddress healthCheckAddress() {
    int port = healthCheck.port();
    return port == 0 ? address : new InetSocketAddress(address.getAddress(), port);
  }

  /** Whether the host may take new requests: EDS says healthy and it is not failing active health checks. */
  public boolean healthy() {
    return healthy && !activeHealthFailed();
  }

  /** What EDS (or the static config) says of the host's health. */
  boolean edsHealthy() {
    return healthy;
  }

  /** EDS changed the host's health; the host keeps its identity, pools and outlier state. */
  void healthy(boolean healthy) {
    this.healthy = healthy;
  }

  /**
   * Whether EDS says DEGRADED or its active health check does. A degraded host that is otherwise {@link #healthy()}
   * is available, but only for the load its priority's healthy hosts cannot take.
   */
  public boolean degraded() {
    return degraded || activeDegraded;
  }

  /** What EDS (or the static config) says of the host's degradation. */
  boolean edsDegraded() {
    return degraded;
  }

  UpstreamHost edsDegraded(boolean degraded) {
    this.degraded = degraded;
    return this;
  }

  boolean activeDegraded() {
    return activeDegraded;
  }

  void activeDegraded(boolean degraded) {
    this.activeDegraded = degraded;
  }

  public InetSocketAddress address() {
    return address;
  }

  /**
   * "ip:port" ("[ip]:port" for IPv6), as Envoy prints upstream hosts and keys its hash rings. Event loops may race
   * to fill it; each writes the same immutable string.
   */
  public String addressString() {
    String t = addressText;
    if (t == null) {
      t = io.bowline.core.transport.AddressText.of(address);
      addressText = t;
    }
    return t;
  }

  /** The name the endpoint was configured with (an IP literal, or the DNS name it was resolved from). */
  public String hostname() {
    return hostname;
  }

  public int weight() {
    return weight;
  }

  public void requestStarted() {
    activeRequests.incrementAndGet();
  }

  public void requestEnded() {
    activeRequests.decrementAndGet();
  }

  public int activeRequests() {
    return activeRequests.get();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UpstreamHost h && h.address.equals(address) && h.weight == weight && h.priority == priority
        && h.locality.equals(locality);
  }

  @Override
  public int hashCode() {
    return (address.hashCode() * 31 + weight) * 31 + priority;
  }

  @Override
  public String toString() {
    return addressString();
  }
}
