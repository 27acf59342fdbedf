package io.bowline.xds.ads;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ADS stream to a management server, state of the world ({@code GRPC}) or incremental ({@code DELTA_GRPC}).
 * It keeps, per resource type, the names subscribed, the resources accepted and their versions, and the last
 * nonce; hands every merged update to the {@link ResourceHandler}; and answers with an ACK, or a NACK carrying the
 * handler's error when it rejects one (the previous resources stay). When the stream fails it reconnects with
 * jittered backoff and resubscribes with what it has (delta: {@code initial_resource_versions}).
 *
 * <p>All state lives on one control thread ({@code bowline-xds}); gRPC delivers its callbacks there too.
 */
public final class AdsClient implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AdsClient.class);

  /** {@code api_type} of the ADS config source. */
  public enum Mode { SOTW, DELTA }

  /** Which gRPC service the stream is on: ADS (every type), or SDS alone (Istio's pilot-agent socket). */
  public enum Service { ADS, SDS }

  private final XdsTarget target;
  private final Node node;
  private final Mode mode;
  private final boolean nodeOnFirstMessageOnly;
  private final ResourceHandler handler;
  private final ScheduledExecutorService control;
  private final Service service;
  private final boolean ownsControl;
  private final Backoff backoff = new Backoff(500, 30_000);
  private final Map<String, TypeState> types = new LinkedHashMap<>();
  private @Nullable ManagedChannel channel;
  private @Nullable Stream stream;
  private boolean closed;

  /** Per type: what we asked for and what we accepted. */
  private static final class TypeState {
    final String typeUrl;
    final Set<String> names = new HashSet<>();
    Map<String, Any> resources = Map.of();
    Map<String, String> versions = Map.of(); // delta: per-resource versions
    String version = "";
    String nonce = "";
    boolean subscribed;
    /** The version last rejected; the server sending it again is answered after a growing delay, not at once. */
    String rejectedVersion;
    final Backoff nackBackoff = new Backoff(1000, 30_000);

    TypeState(String typeUrl) {
      this.typeUrl = typeUrl;
    }
  }

  public AdsClient(XdsTarget target, Node node, Mode mode, boolean nodeOnFirstMessageOnly,
      ResourceHandler handler) {
    this(target, node, mode, nodeOnFirstMessageOnly, handler, Service.ADS, null);
  }

  /**
   * A stream on {@code service}; with a {@code sharedControl} thread (another client's), so that one thread sees
   * every update of every stream.
   */
  public AdsClient(XdsTarget target, Node node, Mode mode, boolean nodeOnFirstMessageOnly, ResourceHandler handler,
      Service service, @Nullable ScheduledExecutorService sharedControl) {
    this.target = target;
    this.node = node;
    this.mode = mode;
    this.nodeOnFirstMessageOnly = nodeOnFirstMessageOnly;
    this.handler = handler;
    this.service = service;
    this.ownsControl = sharedControl == null;
    this.control = sharedControl != null ? sharedControl : Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bowline-xds");
      t.setDaemon(true);
      return t;
    });
    for (String t : TypeUrls.ORDER) {
      types.put(t, new TypeState(t));
    }
  }

  /** The thread every handler call runs on; the engine may post its own control work here. */
  public ScheduledExecutorService controlThread() {
    return control;
  }

  /** Opens the stream and subscribes to listeners and clusters (wildcard). */
  public void start() {
    control.execute(() -> {
      channel = target.open(control);
      if (service == Service.ADS) {
        types.get(TypeUrls.CLUSTER).subscribed = true;
        types.get(TypeUrls.LISTENER).subscribed = true;
      }
      connect();
    });
  }

  /**
   * Sets the names of a named type (routes, endpoints, secrets) the config currently needs; call on the control
   * thread. Resources no longer named are dropped from the set handed to the handler on its next update.
   */
  public void subscribe(String typeUrl, Set<String> names) {
    TypeState s = types.get(typeUrl);
    if (s.names.equals(names) && (s.subscribed || names.isEmpty())) {
      return;
    }
    Set<String> added = new HashSet<>(names);
    added.removeAll(s.names);
    Set<String> removed = new HashSet<>(s.names);
    removed.removeAll(names);
    s.names.clear();
    s.names.addAll(names);
    s.subscribed = true;
    if (!removed.isEmpty()) {
      Map<String, Any> kept = new HashMap<>(s.resources);
      kept.keySet().removeAll(removed);
      s.resources = Map.copyOf(kept);
      Map<String, String> v = new HashMap<>(s.versions);
      v.keySet().removeAll(removed);
      s.versions = Map.copyOf(v);
    }
    if (stream != null) {
      stream.subscriptionChanged(s, added, removed);
    }
  }

  /** The resources of a type accepted so far. */
  public Map<String, Any> resources(String typeUrl) {
    return types.get(typeUrl).resources;
  }

  private void connect() {
    if (closed) {
      return;
    }
    stream = mode == Mode.DELTA ? new DeltaStream() : new SotwStream();
    logger.info("xDS: opening {} {} stream to {}", mode == Mode.DELTA ? "delta" : "state-of-the-world", service,
        target);
    for (TypeState s : types.values()) {
      if (s.subscribed) {
        stream.subscribe(s);
      }
    }
  }

  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private void streamFailed(Stream failed, @Nullable Throwable cause) {
    if (failed != stream || closed) {
      return;
    }
    stream = null;
    handler.onConnectionState(false);
    long delay = backoff.nextDelayMs();
    logger.warn("xDS: stream to {} closed ({}); reconnecting in {} ms", target,
        cause == null ? "by the server" : cause.getMessage(), delay);
    control.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  /** Merges, hands to the handler, and returns null (accepted) or the rejection message. */
  private @Nullable String apply(TypeState s, Map<String, Any> next, Map<String, String> nextVersions,
      String version) {
    long started = System.nanoTime();
    long cpuStarted = THREADS.getCurrentThreadCpuTime();
    try {
      handler.onResources(s.typeUrl, next, version);
    } catch (ConfigException e) {
      String detail = e.getMessage();
      logger.warn("xDS: rejected {} version {}: {}", TypeUrls.shortName(s.typeUrl), version, detail);
      handler.onUpdateResult(s.typeUrl, false, detail);
      return detail;
    } catch (RuntimeException e) {
      String detail = "internal error applying " + TypeUrls.shortName(s.typeUrl) + ": " + e;
      logger.error("xDS: {}", detail, e);
      handler.onUpdateResult(s.typeUrl, false, detail);
      return detail;
    }
    s.resources = Map.copyOf(next);
    s.versions = Map.copyOf(nextVersions);
    s.version = version;
    s.rejectedVersion = null;
    s.nackBackoff.reset();
    handler.onUpdateResult(s.typeUrl, true, version);
    // the thread's own CPU beside the wall time: the difference is time it waited (GC pauses, a busy machine)
    logger.info("xDS: applied {} version {}: {} resources in {} ms ({} ms of CPU)", TypeUrls.shortName(s.typeUrl),
        version, next.size(), (System.nanoTime() - started) / 1_000_000,
        (THREADS.getCurrentThreadCpuTime() - cpuStarted) / 1_000_000);
    return null;
  }

  /**
   * Sends an answer now, or, when it NACKs a version already rejected (a server that re-sends it at once would
   * otherwise spin both sides), after a delay growing from 1 s to 30 s.
   */
  private void answer(TypeState s, String version, @Nullable String error, Stream from, Runnable send) {
    if (error == null) {
      send.run();
      return;
    }
    boolean repeat = version.equals(s.rejectedVersion);
    s.rejectedVersion = version;
    if (!repeat) {
      send.run();
      return;
    }
    control.schedule(() -> {
      if (stream == from) {
        send.run();
      }
    }, s.nackBackoff.nextDelayMs() + 500, TimeUnit.MILLISECONDS);
  }

  private static Status nack(String detail) {
    return Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(detail).build();
  }

  @Override
  public void close() {
    control.execute(() -> {
      closed = true;
      if (stream != null) {
        stream.cancel();
      }
      if (channel != null) {
        channel.shutdownNow();
      }
    });
    if (!ownsControl) {
      return;
    }
    control.shutdown();
    try {
      control.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One ADS stream, of either flavour: what both do with a response's arrival, an error and the end. */
  private abstract class Stream {
    private boolean responded;

    abstract void subscribe(TypeState s);

    abstract void subscriptionChanged(TypeState s, Set<String> added, Set<String> removed);

    /** The request side of the gRPC call. */
    abstract StreamObserver<?> requests();

    void cancel() {
      requests().onError(io.grpc.Status.CANCELLED.withDescription("bowline is shutting down").asException());
    }

    /** The state of a response's type, or null when the response is stale or of a type not asked for. */
    @Nullable TypeState arrived(String typeUrl, String nonce) {
      if (stream != this) {
        return null;
      }
      backoff.reset();
      TypeState s = types.get(typeUrl);
      if (s == null) {
        logger.warn("xDS: response for a type bowline did not ask for: {}", typeUrl);
        return null;
      }
      if (!responded) {
        responded = true;
        handler.onConnectionState(true);
      }
      s.nonce = nonce;
      return s;
    }

    public void onError(Throwable t) {
      control.execute(() -> streamFailed(this, t));
    }

    public void onCompleted() {
      control.execute(() -> {
        requests().onCompleted();
        streamFailed(this, null);
      });
    }
  }

  private final class SotwStream extends Stream implements StreamObserver<DiscoveryResponse> {
    private final StreamObserver<DiscoveryRequest> requests;
    private boolean sentFirst;

    SotwStream() {
      this.requests = service == Service.ADS
          ? AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this)
          : SecretDiscoveryServiceGrpc.newStub(channel).streamSecrets(this);
    }

    private void send(TypeState s, String nonce, @Nullable String error) {
      DiscoveryRequest.Builder r = DiscoveryRequest.newBuilder()
          .setTypeUrl(s.typeUrl)
          .setVersionInfo(s.version)
          .setResponseNonce(nonce);
      if (!TypeUrls.isWildcard(s.typeUrl)) {
        r.addAllResourceNames(s.names);
      }
      if (error != null) {
        r.setErrorDetail(nack(error));
      }
      if (!sentFirst || !nodeOnFirstMessageOnly) {
        r.setNode(node);
      }
      sentFirst = true;
      requests.onNext(r.build());
    }

    @Override
    void subscribe(TypeState s) {
      send(s, "", null);
    }

    @Override
    void subscriptionChanged(TypeState s, Set<String> added, Set<String> removed) {
      send(s, s.nonce, null);
    }

    @Override
    StreamObserver<?> requests() {
      return requests;
    }

    @Override
    public void onNext(DiscoveryResponse r) {
      TypeState s = arrived(r.getTypeUrl(), r.getNonce());
      if (s == null) {
        return;
      }
      Map<String, Any> next = new LinkedHashMap<>();
      String error = null;
      try {
        if (!TypeUrls.isWildcard(s.typeUrl)) {
          next.putAll(s.resources); // named types: a response carries what changed, the rest is kept
        }
        for (Any a : r.getResourcesList()) {
          String name = TypeUrls.nameOf(a, s.typeUrl);
          if (!TypeUrls.isWildcard(s.typeUrl) && !s.names.contains(name)) {
            continue; // not (or no longer) subscribed
          }
          if (next.put(name, a) != null && TypeUrls.isWildcard(s.typeUrl)) {
            throw new ConfigException(TypeUrls.shortName(s.typeUrl) + "[" + name + "]", "duplicate resource name");
          }
        }
      } catch (ConfigException e) {
        error = e.getMessage();
        handler.onUpdateResult(s.typeUrl, false, error);
      }
      if (error == null) {
        error = apply(s, next, Map.of(), r.getVersionInfo());
      }
      String nackDetail = error;
      answer(s, r.getVersionInfo(), error, this, () -> send(s, r.getNonce(), nackDetail));
    }

  }

  private final class DeltaStream extends Stream implements StreamObserver<DeltaDiscoveryResponse> {
    private final StreamObserver<DeltaDiscoveryRequest> requests;
    private boolean sentFirst;

    DeltaStream() {
      this.requests = service == Service.ADS
          ? AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(this)
          : SecretDiscoveryServiceGrpc.newStub(channel).deltaSecrets(this);
    }

    private DeltaDiscoveryRequest.Builder request(TypeState s) {
      DeltaDiscoveryRequest.Builder r = DeltaDiscoveryRequest.newBuilder().setTypeUrl(s.typeUrl);
      if (!sentFirst || !nodeOnFirstMessageOnly) {
        r.setNode(node);
      }
      sentFirst = true;
      return r;
    }

    @Override
    void subscribe(TypeState s) {
      DeltaDiscoveryRequest.Builder r = request(s);
      if (!TypeUrls.isWildcard(s.typeUrl)) {
        r.addAllResourceNamesSubscribe(s.names);
      }
      r.putAllInitialResourceVersions(s.versions);
      requests.onNext(r.build());
    }

    @Override
    void subscriptionChanged(TypeState s, Set<String> added, Set<String> removed) {
      if (TypeUrls.isWildcard(s.typeUrl)) {
        return;
      }
      requests.onNext(request(s).addAllResourceNamesSubscribe(added).addAllResourceNamesUnsubscribe(removed)
          .build());
    }

    @Override
    StreamObserver<?> requests() {
      return requests;
    }

    @Override
    public void onNext(DeltaDiscoveryResponse r) {
      TypeState s = arrived(r.getTypeUrl(), r.getNonce());
      if (s == null) {
        return;
      }
      Map<String, Any> next = new LinkedHashMap<>(s.resources);
      Map<String, String> versions = new HashMap<>(s.versions);
      String error = null;
      try {
        for (Resource res : r.getResourcesList()) {
          String name = res.getName().isEmpty() ? TypeUrls.nameOf(res.getResource(), s.typeUrl) : res.getName();
          if (!TypeUrls.isWildcard(s.typeUrl) && !s.names.contains(name)) {
            continue;
          }
          TypeUrls.nameOf(res.getResource(), s.typeUrl); // checks the type
          next.put(name, res.getResource());
          versions.put(name, res.getVersion());
        }
        for (String removed : r.getRemovedResourcesList()) {
          next.remove(removed);
          versions.remove(removed);
        }
      } catch (ConfigException e) {
        error = e.getMessage();
        handler.onUpdateResult(s.typeUrl, false, error);
      }
      if (error == null) {
        error = apply(s, next, versions, r.getSystemVersionInfo());
      }
      String nackDetail = error;
      answer(s, r.getSystemVersionInfo(), error, this, () -> {
        DeltaDiscoveryRequest.Builder ack = request(s).setResponseNonce(r.getNonce());
        if (nackDetail != null) {
          ack.setErrorDetail(nack(nackDetail));
        }
        requests.onNext(ack.build());
      });
    }
  }
}
