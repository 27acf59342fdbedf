package io.bowline.core.http;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.HcmConfig;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterCallbacks.RequestBody;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.router.Route;
import io.bowline.core.router.RouteAction;
import io.bowline.core.router.StreamDurations;
import io.bowline.core.router.RetryPolicy;
import io.bowline.core.router.RouteTable;
import io.bowline.core.router.VirtualHost;
import io.bowline.core.transport.LoopClock;
import io.bowline.core.transport.LoopTimers;
import io.bowline.core.upstream.Cluster;
import io.bowline.core.upstream.UpstreamFailure;
import io.bowline.core.upstream.UpstreamListener;
import io.bowline.core.upstream.UpstreamRequest;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request/response exchange, independent of the downstream codec: it runs the HTTP filters, routes, and relays
 * to the upstream chosen by the cluster's load balancer. Everything it touches is confined to its event loop.
 * Bodies stream: each chunk is written on as it arrives and released by whoever last holds it; only while no
 * upstream is ready yet are chunks queued, and reading pauses while that queue is over the connection's limit.
 */
public final class HttpStream implements UpstreamListener, HttpFilterCallbacks, io.bowline.core.router.RequestLine,
    io.bowline.core.router.HeaderValueFormat.Context {
  private static final Logger logger = LoggerFactory.getLogger(HttpStream.class);
  /** Envoy's transparent retries of refused streams are bounded too; a peer refusing every stream gets a 503. */
  private static final int MAX_REFUSED_ATTEMPTS = 2;
  private static final String X_ENVOY_ATTEMPT_COUNT = "x-envoy-attempt-count";
  private static final String X_ENVOY_RATELIMITED = "x-envoy-ratelimited";
  private static final String X_ENVOY_OVERLOADED = "x-envoy-overloaded";
  private static final String GRPC_STATUS = "grpc-status";

  private static int parseGrpcStatus(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private final HttpConnectionContext conn;
  private final DownstreamSink sink;
  private final HcmConfig hcm;
  private final long startNanos = LoopClock.nanoTime();
  private HttpRequest request;
  private RouteRequest.@Nullable Target target;
  private @Nullable Route route;
  private @Nullable VirtualHost vhost;
  /** A weighted cluster picked early for a filter (rate-limit descriptors), used when the request is dispatched. */
  private RouteAction.@Nullable WeightedCluster prePicked;
  private @Nullable Route prePickedFor;
  private @Nullable RouteTable routes;
  private HttpFilter @Nullable [] filters;
  private int filterIndex;
  private @Nullable Cluster cluster;
  private @Nullable UpstreamRequest upstream;
  /**
   * Request pieces that arrived before the upstream was ready, made on the first: a request whose upstream connection
   * is pooled and idle never needs it.
   */
  private @Nullable ArrayDeque<HttpObject> pending;
  private long pendingBytes;
  private HttpFilterCallbacks.@Nullable UpstreamAlpn upstreamAlpn;
  /** A held filter waiting for the request body (awaitRequestBody), and how much of it it wants. */
  private java.util.function.@Nullable Consumer<RequestBody> bodyWaiter;
  private int bodyWaitBytes;
  private boolean grpc;
  private boolean upgrade;
  private boolean requestEnded;
  private boolean bodyless;
  private boolean responseStarted;
  private boolean done;
  private boolean downstreamPaused;
  private long upstreamStartNanos;
  private boolean upstreamCounted;
  private io.bowline.core.upstream.@Nullable UpstreamHost upstreamHost;
  private int responseStatus;
  /** The route's timeout (and request_timeout, per_try_timeout below): loop timers, re-armed per attempt. */
  private final LoopTimers.Timer timeout = new LoopTimers.Timer() {
    @Override
    protected void expire() {
      onTimeout();
    }
  };
  private LoopTimers.@Nullable Timer requestTimer;
  private long lastActivityNanos = startNanos;
  private String responseFlags = "-";
  private @Nullable String responseCodeDetails;
  private @Nullable HttpHeaders responseHeaders;
  private @Nullable HttpHeaders responseTrailers;
  private long requestDoneNanos = -1;
  private long firstResponseNanos = -1;
  private java.net.@Nullable InetSocketAddress upstreamLocal;
  private @Nullable String upstreamLocalText;
  private javax.net.ssl.@Nullable SSLSession upstreamTls;
  /** The request headers the logs read, as last forwarded ({@link io.bowline.core.accesslog.LoggedRequestHeaders}). */
  private @Nullable CharSequence @Nullable [] loggedRequestValues;
  /** The trusted client address, worked out once per request (see {@link #trustedClient()}). */
  private java.net.@Nullable InetSocketAddress trustedClient;
  private io.bowline.core.tracing.@Nullable RequestTrace trace;
  private java.util.@Nullable Map<String, String> replyHeaders;
  private java.util.@Nullable Map<String, com.google.protobuf.Struct> dynamicMetadata;
  private @Nullable GrpcFrameCounter requestMessages;
  private @Nullable GrpcFrameCounter responseMessages;
  private long bytesReceived;
  private long bytesSent;
  private long upstreamServiceMs = -1;
  private boolean requestTrailers;
  // retries (route or virtual host retry_policy)
  private @Nullable RetryPolicy retry;
  private int retriesDone;
  private boolean upstreamHttp2;
  /** The request body so far, kept (retained duplicates) while a retry may have to send it again. */
  private @Nullable ArrayDeque<HttpContent> replay;
  private long replayBytes;
  private boolean replayOverflow;
  /** An attempt has had the request written: a retry sends it from {@link #replay}. */
  private boolean requestSent;
  private java.util.@Nullable Set<io.bowline.core.upstream.UpstreamHost> triedHosts;
  /** The request's random draw for runtime_fraction route matches (-1: not drawn yet). */
  private int randomPerMillion = -1;
  /** String objects filters set for this stream (filter_state hash policies read them), created on first use. */
  private java.util.@Nullable Map<String, String> filterState;
  /** fault response_rate_limit: the body is paced through this once a filter asked for a rate. */
  private @Nullable ResponseThrottle throttle;
  private long throttleBytesPerSecond;
  /** The priority of each attempt's host, kept only for a retry policy with previous_priorities. */
  private java.util.@Nullable List<Integer> attemptPriorities;
  private LoopTimers.@Nullable Timer perTryTimer;
  private @Nullable ScheduledFuture<?> perTryIdleTimer;
  /** When this attempt's upstream last sent something (or the attempt began): per_try_idle_timeout's clock. */
  private long attemptActivityNanos;
  private @Nullable ScheduledFuture<?> retryTimer;
  private @Nullable ScheduledFuture<?> durationTimer;
  /** Envoy's internal request (x-envoy-internal), decided with x-forwarded-for. */
  private boolean internal;
  /** Whether the response carries the request's x-request-id (always_set_request_id_in_response, a forced trace). */
  private boolean idInResponse;
  /** The weighted cluster chosen (null for cluster_header): its header changes apply to request and response. */
  private RouteAction.@Nullable WeightedCluster weighted;
  /** The virtual cluster the request falls in (null when its virtual host defines none): its stats count it. */
  private VirtualHost.@Nullable VirtualCluster vcluster;
  /** ORIGINAL_DST clusters: the address this request goes to. */
  private java.net.@Nullable InetSocketAddress originalDst;
  private io.bowline.core.upstream.@Nullable CircuitBreaker breakerRequest;
  private io.bowline.core.upstream.@Nullable CircuitBreaker breakerRetry;
  /** The route's timeout, or what x-envoy-upstream-rq-timeout-ms asked for. */
  private long routeTimeoutMs;
  private @Nullable Long requestHash;
  /** Hash-policy cookies generated for this request, set on its response. */
  private java.util.@Nullable List<String> setCookies;
  private java.util.@Nullable List<MirrorStream> mirrors;
  /** The host the current attempt was sent to (known before it connects, so connect failures count too). */
  private io.bowline.core.upstream.@Nullable UpstreamHost attemptHost;
  /** Envoy keeps a request body for a retry up to the connection's buffer limit; beyond it, no retry. */
  private static final long REPLAY_LIMIT = 1024 * 1024;
  private int refusedAttempts;

  public HttpStream(HttpConnectionContext conn, DownstreamSink sink) {
    this.conn = conn;
    this.sink = sink;
    this.hcm = conn.hcm();
  }

  // ---------------------------------------------------------------- downstream events

  /** Request headers arrived; already checked by the codec handler for framing and limits. */
  public void onRequestHeaders(HttpRequest req, boolean endStream) {
    this.request = req;
    this.bodyless = endStream;
    hcm.stats().rqTotal.inc();
    hcm.stats().rqActive.inc();
    if (hcm.requestTimeoutMs() > 0 && !endStream) {
      requestTimer = new LoopTimers.Timer() {
        @Override
        protected void expire() {
          onRequestTimeout();
        }
      };
      requestTimer.arm(sink.eventLoop(), hcm.requestTimeoutMs());
    }
    (sink.isHttp2() ? hcm.stats().rqHttp2Total : hcm.stats().rqHttp1Total).inc();
    HttpHeaders h = req.headers();
    String ct = h.get(HttpHeaderNames.CONTENT_TYPE);
    grpc = ct != null && ct.startsWith("application/grpc");
    if (grpc && hcm.filtersLog()) {
      requestMessages = new GrpcFrameCounter();
      responseMessages = new GrpcFrameCounter();
    }
    target = RouteRequest.parse(req.uri());
    if (target == null || target.path().equals("*")) {
      // a target that is not a path (OPTIONS *, a bare name): as Envoy, which routes only relative paths
      hcm.stats().rqNonRelativePath.inc();
      localReply(404, "", "-", "absolute_path");
      return;
    }
    if (target.authority() != null) {
      h.set(HttpHeaderNames.HOST, target.authority());
    }
    PathNormalizer.Result norm = PathNormalizer.apply(target.path(), hcm.pathPolicy());
    if (norm.kind() == PathNormalizer.Kind.REJECT) {
      localReply(400, "Bad Request", "DPE", "path_normalization_failed");
      return;
    }
    if (norm.kind() == PathNormalizer.Kind.REDIRECT) {
      redirect(307, norm.path() + (target.query() == null ? "" : "?" + target.query()));
      return;
    }
    if (!norm.path().equals(target.path())) {
      target = new RouteRequest.Target(norm.path(), target.query(), null);
      req.setUri(target.uri());
    } else if (target.authority() != null) {
      req.setUri(target.uri());
    }
    upgrade = !sink.isHttp2() && h.contains(HttpHeaderNames.UPGRADE)
        && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    if (upgrade && "h2c".equalsIgnoreCase(h.get(HttpHeaderNames.UPGRADE))) {
      upgrade = false; // h2c is this hop's business; never forwarded (HOSTILE-INPUTS H1-14)
    }
    ProxyHeaders.stripHopByHop(h, upgrade);
    if (upgrade) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }
    internal = RouteRequest.forwardedHeaders(h, conn);
    if (!hcm.accessLogs().isEmpty() || hcm.filtersLog()) {
      // as Envoy, the client is who X-Forwarded-For says when the request arrives; read now, while the headers are
      // in the cache, rather than when the stream is logged
      trustedClient();
    }
    ClientCertHeader.apply(hcm.clientCert(), h, conn.tlsSession());
    CharSequence requestId = requestId(h);
    selectRoute();
    if (hcm.tracing() != null) {
      trace = io.bowline.core.tracing.RequestTrace.start(hcm.tracing(), route == null ? null : route.tracing(), h,
          requestId);
    }
    if (!internal && !routes.internalOnlyHeaders().isEmpty()) {
      for (String name : routes.internalOnlyHeaders()) { // internal_only_headers: gone from external requests
        h.remove(name);
      }
    }
    if (vhost != null && vhost.requireTls() != VirtualHost.RequireTls.NONE
        && !"https".equals(h.get(ProxyHeaders.X_FORWARDED_PROTO))
        && (vhost.requireTls() == VirtualHost.RequireTls.ALL || !internal)) {
      // Envoy's require_tls: a plaintext request (external only, or all) is sent to https, 301
      redirect(301, "https://" + h.get(HttpHeaderNames.HOST) + request.uri());
      return;
    }
    if (route == null) {
      hcm.stats().noRoute.inc();
      localReply(404, "", "NR", "route_not_found");
      return;
    }
    java.util.List<HttpFilterProvider> providers = hcm.httpFilters();
    if (!providers.isEmpty()) {
      filters = new HttpFilter[providers.size()];
      for (int i = 0; i < filters.length; i++) {
        filters[i] = providers.get(i).create(this);
      }
    }
    runRequestFilters();
  }

  /** A request body chunk or the end of the request (trailers); owned. */
  public void onRequestContent(HttpContent content) {
    bytesReceived += content.content().readableBytes();
    if (requestMessages != null) {
      requestMessages.accept(content.content());
    }
    lastActivityNanos = LoopClock.nanoTime();
    if (content instanceof LastHttpContent last) {
      requestEnded = true;
      requestDoneNanos = lastActivityNanos - startNanos;
      requestTrailers = !last.trailingHeaders().isEmpty();
      if (requestTimer != null) {
        requestTimer.cancel();
      }
      startTimeout();
    }
    if (done) {
      content.release();
      return;
    }
    if (retry != null) {
      keepForReplay(content);
    }
    if (mirrors != null) {
      for (MirrorStream m : mirrors) {
        m.onContent(content.retainedDuplicate());
      }
    }
    if (upstream != null) {
      upstream.write(content);
      return;
    }
    pending().add(content);
    pendingBytes += content.content().readableBytes();
    if (pendingBytes > conn.hcm().maxRequestHeadersBytes() + 1024L * 1024 && !downstreamPaused) {
      downstreamPaused = true;
      sink.setReadable(false);
    }
    if (bodyWaiter != null) {
      answerBodyWaiter();
    }
  }

  @Override
  public void overrideUpstreamAlpn(HttpFilterCallbacks.UpstreamAlpn alpn) {
    upstreamAlpn = alpn;
  }

  @Override
  public java.util.@Nullable List<String> upstreamAlpn() {
    HttpFilterCallbacks.UpstreamAlpn a = upstreamAlpn;
    return a == null ? null : upstreamHttp2 ? a.http2() : a.http11();
  }

  @Override
  public void awaitRequestBody(int maxBytes, java.util.function.Consumer<RequestBody> ready) {
    bodyWaiter = ready;
    bodyWaitBytes = maxBytes;
    answerBodyWaiter();
  }

  /** Hands the waiting filter the body's first bytes once it has what it asked for, or all there will be for now. */
  private void answerBodyWaiter() {
    java.util.function.Consumer<RequestBody> w = bodyWaiter;
    if (w == null || !(requestEnded || pendingBytes >= bodyWaitBytes || downstreamPaused)) {
      return;
    }
    bodyWaiter = null;
    int n = (int) Math.min(pendingBytes, bodyWaitBytes);
    byte[] copy = new byte[n];
    int at = 0;
    for (HttpObject o : pendingSoFar()) {
      if (at == n) {
        break;
      }
      if (o instanceof HttpContent c) {
        int take = Math.min(c.content().readableBytes(), n - at);
        c.content().getBytes(c.content().readerIndex(), copy, at, take);
        at += take;
      }
    }
    w.accept(new RequestBody(copy, requestEnded && pendingBytes <= bodyWaitBytes, pendingBytes));
  }

  public void onDownstreamReadComplete() {
    if (upstream != null) {
      upstream.flush();
    }
  }

  public void onDownstreamWritabilityChanged(boolean writable) {
    if (upstream != null) {
      upstream.setReadable(writable && (throttle == null || !throttle.holdsUpstream()));
    }
  }

  /** The downstream connection closed or reset the stream before the response ended. */
  public void onDownstreamReset() {
    if (mirrors != null) {
      mirrors.forEach(MirrorStream::onOriginalReset);
    }
    if (done) {
      return;
    }
    hcm.stats().rqRxReset.inc();
    addResponseFlag("DC");
    if (upstream != null) {
      cluster.stats().rqTxReset.inc();
      upstream.reset();
    }
    finish(false);
  }

  public boolean responseStarted() {
    return responseStarted;
  }

  public boolean isDone() {
    return done;
  }

  // ---------------------------------------------------------------- filters and routing

  private ArrayDeque<HttpObject> pending() {
    if (pending == null) {
      pending = new ArrayDeque<>(2);
    }
    return pending;
  }

  private Iterable<HttpObject> pendingSoFar() {
    return pending == null ? java.util.List.of() : pending;
  }

  private void selectRoute() {
    if (routes == null) {
      routes = hcm.routes().current(); // read once: an RDS update mid-request does not change this request
    }
    RouteTable table = routes;
    vhost = table.virtualHost(io.bowline.core.filter.HeaderValues.first(request.headers(), HttpHeaderNames.HOST));
    route = vhost == null ? null : vhost.route(target.path(), target.query(), request.headers(), this);
    refreshDurationTimer();
  }

  /** max_stream_duration, recomputed whenever the route is chosen, counted from the stream's start (Envoy). */
  private void refreshDurationTimer() {
    if (durationTimer != null) {
      durationTimer.cancel(false);
      durationTimer = null;
    }
    long limit = StreamDurations.limitMs(route, hcm.maxStreamDurationMs(), request.headers());
    if (limit < 0) {
      return;
    }
    long left = Math.max(0, limit - (LoopClock.nanoTime() - startNanos) / 1_000_000);
    durationTimer = sink.eventLoop().schedule(this::onMaxDuration, left, TimeUnit.MILLISECONDS);
  }

  private void onMaxDuration() {
    durationTimer = null;
    if (done) {
      return;
    }
    hcm.stats().rqMaxDurationReached.inc();
    localReply(408, "downstream duration timeout", "DT", "max_duration_timeout", LocalReply.GRPC_DEADLINE_EXCEEDED);
  }

  @Override
  public String method() {
    return request.method().name();
  }

  @Override
  public String pathWithQuery() {
    return request.uri();
  }

  @Override
  public String scheme() {
    return sink.isTls() ? "https" : "http";
  }

  @Override
  public java.net.InetSocketAddress downstreamRemoteAddress() {
    return conn.remote();
  }

  @Override
  public java.net.InetSocketAddress downstreamLocalAddress() {
    return conn.local();
  }

  @Override
  public String protocol() {
    return sink.isHttp2() ? "HTTP/2" : request.protocolVersion().text();
  }

  @Override
  public @Nullable String requestHeader(String name) {
    return request.headers().get(name);
  }

  /** stream_idle_timeout for this stream: the route's idle_timeout where it sets one (0: none), else the HCM's. */
  public long streamIdleTimeoutMs() {
    if (route != null && route.action() instanceof RouteAction.Forward f && f.idleTimeoutMs() >= 0) {
      return f.idleTimeoutMs();
    }
    return hcm.streamIdleTimeoutMs();
  }

  private void runRequestFilters() {
    if (filters != null) {
      while (filterIndex < filters.length) {
        FilterStatus s;
        try {
          s = filters[filterIndex++].onRequestHeaders(request, requestEnded);
        } catch (RuntimeException e) {
          // a filter's bug fails its request, loudly, and not the connection's other streams
          logger.error("HTTP filter {} failed on {} {}: {}", filters[filterIndex - 1].getClass().getName(),
              request.method(), request.uri(), e.toString(), e);
          if (!done) {
            localReply(500, "", "-", "filter_failed");
          }
          return;
        }
        if (done) {
          return;
        }
        if (s == FilterStatus.STOP_ITERATION) {
          return; // resumed by continueRequest()
        }
      }
    }
    dispatch();
  }

  private void dispatch() {
    Route r = route;
    if (r == null) {
      hcm.stats().noRoute.inc();
      localReply(404, "", "NR", "route_not_found");
      return;
    }
    RouteAction action = r.action();
    if (action instanceof RouteAction.DirectResponse d) {
      hcm.stats().rqDirectResponse.inc();
      String body = d.body() == null ? "" : new String(d.body(), java.nio.charset.StandardCharsets.UTF_8);
      sendResponse(LocalReply.http(io.netty.buffer.ByteBufAllocator.DEFAULT, d.status(), body, hcm.serverName()),
          "-");
      return;
    }
    if (action instanceof RouteAction.Redirect rd) {
      hcm.stats().rqRedirect.inc();
      redirect(rd.status(), RedirectBuilder.location(rd, request, target, sink.isTls(), r.path().prefix()));
      return;
    }
    RouteAction.Forward f = (RouteAction.Forward) action;
    if (upgrade && !(hcm.websocketEnabled() && f.upgradesAllowed()
        && "websocket".equalsIgnoreCase(request.headers().get(HttpHeaderNames.UPGRADE)))) {
      localReply(403, "", "UPE", "upgrade_failed");
      return;
    }
    RouteAction.WeightedCluster chosen = f.clusterHeader() != null ? null
        : prePickedFor == r && prePicked != null ? prePicked
        : f.pick(f.totalWeight() > 0 ? ThreadLocalRandom.current().nextInt(f.totalWeight()) : 0);
    String name = chosen != null ? chosen.name() : request.headers().get(f.clusterHeader());
    cluster = name == null ? null : conn.clusters().get(name);
    if (cluster == null) {
      hcm.stats().noCluster.inc();
      localReply(f.clusterNotFoundStatus(), "", "NC", "cluster_not_found");
      return;
    }
    weighted = chosen;
    vcluster = vhost.virtualClusters().isEmpty() ? null : vhost.virtualCluster(request.headers(), this);
    HttpHeaders h = request.headers();
    String path = RouteRequest.rewritePath(target.path(), f, r.path().prefix());
    if (!path.equals(target.path())) {
      h.set(ProxyHeaders.X_ENVOY_ORIGINAL_PATH, request.uri());
      request.setUri(target.query() == null ? path : path + "?" + target.query());
    }
    String host = f.rewrittenHost(h, target.path());
    if (host != null) {
      RouteRequest.rewriteHost(request, host);
    }
    if (weighted != null) {
      weighted.requestHeaders().apply(h, this);
    }
    r.requestHeaders().apply(h, this);
    vhost.requestHeaders().apply(h, this);
    routes.requestHeaders().apply(h, this);
    routeTimeoutMs = f.timeoutMsFor(grpc, h);
    // the x-envoy-* control headers are rare: one pass over the names spares six hashed lookups and removals
    boolean controls = ProxyHeaders.hasEnvoyHeader(h);
    retry = upgrade ? null : controls ? HeaderControls.retryPolicy(f.retryPolicy(), h) : f.retryPolicy();
    if (retry != null && !retry.requestMayRetry(h)) {
      retry = null; // retriable_request_headers: this request is not one that may be retried
    }
    Long asked = controls ? HeaderControls.millis(h, HeaderControls.UPSTREAM_RQ_TIMEOUT_MS) : null;
    if (asked != null) {
      routeTimeoutMs = asked; // x-envoy-upstream-rq-timeout-ms takes precedence over the route's timeout
    }
    long expected = retry != null && retry.perTryTimeoutMs() > 0 && (routeTimeoutMs == 0
        || retry.perTryTimeoutMs() < routeTimeoutMs) ? retry.perTryTimeoutMs() : routeTimeoutMs;
    if (expected > 0) {
      h.set(ProxyHeaders.X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, expected == f.timeoutMs() ? f.timeoutHeaderValue()
          : ProxyHeaders.number(expected));
    }
    boolean http2 = !upgrade && cluster.usesHttp2(sink.isHttp2());
    if (!http2) {
      request.setProtocolVersion(io.netty.handler.codec.http.HttpVersion.HTTP_1_1); // Envoy speaks 1.1 upstream
      if (!bodyless && !requestEnded && !h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
        HttpUtil.setTransferEncodingChunked(request, true);
      }
    }
    upstreamStartNanos = LoopClock.nanoTime();
    if (requestEnded) {
      startTimeout();
    }
    if (!cluster.breaker().tryRequest()) {
      localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "UO",
          "upstream_reset_before_response_started{overflow}");
      return;
    }
    breakerRequest = cluster.breaker();
    upstreamHttp2 = http2;
    if (retry != null) {
      for (HttpObject o : pendingSoFar()) { // what arrived before routing: kept like what comes after
        if (o instanceof HttpContent c) {
          keepForReplay(c);
        }
      }
      if (retry.includeAttemptCount()) {
        h.set(X_ENVOY_ATTEMPT_COUNT, "1");
      }
    }
    ClusterConfig.OriginalDst od = cluster.config().originalDst();
    if (od != null && (originalDst = originalDestination(od, h)) == null) {
      cluster.stats().noHealthyHost.inc();
      localReply(503, "no healthy upstream", "UH", "no_healthy_upstream");
      return;
    }
    requestHash = requestHash(f);
    startMirrors(f);
    cluster.newStream(sink.eventLoop(), http2, this, null, 1, requestHash, originalDst);
  }

  /** request_mirror_policies: a shadow copy per selected policy, fed the body as it comes. */
  private void startMirrors(RouteAction.Forward f) {
    if (f.mirrors().isEmpty() || upgrade) {
      return;
    }
    for (RouteAction.Mirror m : f.mirrors()) {
      if (m.perMillion() < 1_000_000 && ThreadLocalRandom.current().nextInt(1_000_000) >= m.perMillion()) {
        continue;
      }
      io.bowline.core.upstream.Cluster shadow = conn.clusters().get(m.cluster());
      if (shadow == null) {
        continue; // Envoy skips a mirror to an unknown cluster
      }
      MirrorStream ms = new MirrorStream(shadow, request, m.appendShadowSuffix());
      for (HttpObject o : pendingSoFar()) {
        if (o instanceof HttpContent c) {
          ms.onContent(c.retainedDuplicate());
        }
      }
      if (mirrors == null) {
        mirrors = new java.util.ArrayList<>(1);
      }
      mirrors.add(ms);
      ms.start(sink.eventLoop(), shadow.usesHttp2(sink.isHttp2()), f.timeoutMs());
    }
  }

  /**
   * Where an ORIGINAL_DST cluster sends this request: the header's {@code ip:port} (use_http_header), on the port
   * override if any. Null when the header is absent or not an address. Envoy would then use the connection's original
   * destination; bowline has no traffic capture yet, so that address is its own listener and connecting would loop.
   */
  private java.net.@Nullable InetSocketAddress originalDestination(ClusterConfig.OriginalDst od, HttpHeaders h) {
    String v = od.headerName() == null ? null : h.get(od.headerName());
    java.net.InetSocketAddress dst = v == null ? null : RouteRequest.ipAndPort(v.trim());
    if (dst == null) {
      logger.debug("cluster {}: no original destination for {} ({}: {})", cluster.config().name(), request.uri(),
          od.headerName() == null ? "socket" : od.headerName(), v);
      return null;
    }
    return od.portOverride() > 0 ? new java.net.InetSocketAddress(dst.getAddress(), od.portOverride()) : dst;
  }

  /** Envoy's hash policies: each value hashed with xxHash64 and folded in (rotate, xor); terminal stops. */
  private @Nullable Long requestHash(RouteAction.Forward f) {
    if (f.hashPolicies().isEmpty()) {
      return null;
    }
    Long hash = null;
    for (io.bowline.core.router.HashPolicy p : f.hashPolicies()) {
      String v = p.value(request.headers(), target.query(), conn.remote(),
          filterState == null ? java.util.Map.of() : filterState);
      if (v == null && p.generatesCookie()) {
        v = io.bowline.core.router.HashPolicy.generatedCookieValue(conn.remote(), conn.local());
        if (setCookies == null) {
          setCookies = new java.util.ArrayList<>(1);
        }
        setCookies.add(p.setCookie(v)); // sent with the response, so the client's next requests carry it
      }
      if (v == null) {
        continue;
      }
      long h = io.bowline.core.upstream.XxHash64.hash(v);
      hash = hash == null ? h : Long.rotateLeft(hash, 1) ^ h;
      if (p.terminal()) {
        break;
      }
    }
    return hash;
  }

  private void keepForReplay(HttpContent content) {
    if (replayOverflow) {
      return;
    }
    replayBytes += content.content().readableBytes();
    if (replayBytes > REPLAY_LIMIT) {
      replayOverflow = true; // too large to send again: this request will not be retried
      releaseReplay();
      return;
    }
    if (replay == null) {
      replay = new ArrayDeque<>(4);
    }
    replay.add(content.retainedDuplicate());
  }

  private void releaseReplay() {
    if (replay != null) {
      HttpContent c;
      while ((c = replay.poll()) != null) {
        c.release();
      }
    }
  }

  /**
   * Retries when the policy allows this failure, retries are left and the request can be sent again: the attempt is
   * abandoned, and after Envoy's jittered backoff a new one starts, on another host when previous_hosts asks so.
   */
  private boolean maybeRetry(boolean retriable) {
    return maybeRetry(retriable, null);
  }

  /** The same, for a response: its rate-limit reset headers may set the wait (rate_limited_retry_back_off). */
  private boolean maybeRetry(boolean retriable, @Nullable HttpHeaders response) {
    RetryPolicy p = retry;
    if (p == null || !retriable || done || responseStarted || replayOverflow) {
      return false;
    }
    if (retriesDone >= p.numRetries()) {
      cluster.stats().rqRetryLimitExceeded.inc();
      return false;
    }
    releaseRetry();
    if (!cluster.breaker().tryRetry()) {
      return false; // max_retries across the cluster: counted as upstream_rq_retry_overflow
    }
    breakerRetry = cluster.breaker();
    retriesDone++;
    cluster.stats().rqRetry.inc();
    if (attemptHost != null && p.previousHosts()) {
      if (triedHosts == null) {
        triedHosts = new java.util.HashSet<>(4);
      }
      triedHosts.add(attemptHost);
    }
    abandonAttempt();
    long reset = response == null || p.rateLimitedBackOff() == null ? -1
        : p.rateLimitedBackOff().resetMs(response, System.currentTimeMillis());
    long delay;
    if (reset > 0) {
      delay = RetryPolicy.rateLimitedDelayMs(reset, ThreadLocalRandom.current());
      cluster.stats().rqRetryBackoffRatelimited.inc();
    } else {
      delay = p.backoffMs(retriesDone, ThreadLocalRandom.current());
      cluster.stats().rqRetryBackoffExponential.inc();
    }
    retryTimer = sink.eventLoop().schedule(() -> {
      retryTimer = null;
      if (!done) {
        if (p.includeAttemptCount()) {
          request.headers().set(X_ENVOY_ATTEMPT_COUNT, Integer.toString(retriesDone + 1));
        }
        upstreamStartNanos = LoopClock.nanoTime();
        cluster.newStream(sink.eventLoop(), upstreamHttp2, this, triedHosts, p.hostSelectionMaxAttempts(),
            requestHash, originalDst, excludedPriorities(p));
      }
    }, delay, TimeUnit.MILLISECONDS);
    return true;
  }

  private void releaseRetry() {
    if (breakerRetry != null) {
      breakerRetry.retryDone();
      breakerRetry = null;
    }
  }

  private void abandonAttempt() {
    if (perTryTimer != null) {
      perTryTimer.cancel();
    }
    cancelPerTryIdle();
    if (upstream != null) {
      upstream.reset();
      upstream = null;
    }
    releaseUpstreamCounters();
  }

  private void cancelPerTryIdle() {
    if (perTryIdleTimer != null) {
      perTryIdleTimer.cancel(false);
      perTryIdleTimer = null;
    }
  }

  /**
   * per_try_idle_timeout: the attempt's upstream sent nothing for that long. One timer per attempt, pushed back by
   * what arrived meanwhile rather than rescheduled on every chunk. Before a response it is retried as a per-try
   * timeout; once the response has begun, the stream is reset.
   */
  private void checkPerTryIdle() {
    perTryIdleTimer = null;
    RetryPolicy p = retry;
    if (done || p == null) {
      return;
    }
    long idleMs = (LoopClock.nanoTime() - attemptActivityNanos) / 1_000_000;
    if (idleMs < p.perTryIdleTimeoutMs()) {
      perTryIdleTimer = sink.eventLoop().schedule(this::checkPerTryIdle, p.perTryIdleTimeoutMs() - idleMs,
          TimeUnit.MILLISECONDS);
      return;
    }
    cluster.stats().rqPerTryIdleTimeout.inc();
    if (attemptHost != null) {
      cluster.reportLocalFailure(attemptHost);
    }
    if (!responseStarted && maybeRetry(p.retriesNoResponse())) {
      return;
    }
    abandonAttempt();
    localReply(504, "upstream request timeout", "UT", "upstream_per_try_idle_timeout");
  }

  /** per_try_timeout: this attempt took too long; another may be tried (a timeout counts as no response). */
  private void onPerTryTimeout() {
    if (done || responseStarted) {
      return;
    }
    cluster.stats().rqPerTryTimeout.inc();
    if (attemptHost != null) {
      cluster.reportLocalFailure(attemptHost);
    }
    if (maybeRetry(retry != null && retry.retriesNoResponse())) {
      return;
    }
    abandonAttempt();
    localReply(504, "upstream request timeout", "UT", "upstream_per_try_timeout");
  }

  private void startTimeout() {
    if (timeout.armed() || done || route == null || !(route.action() instanceof RouteAction.Forward f)) {
      return;
    }
    if (routeTimeoutMs > 0 && !upgrade) {
      timeout.arm(sink.eventLoop(), routeTimeoutMs);
    }
  }

  /** request_timeout: the whole request did not arrive in time; 408 as Envoy answers it. */
  private void onRequestTimeout() {
    if (!done && !requestEnded) {
      hcm.stats().rqTimeout.inc();
      localReply(408, "request timeout", "-", "request_overall_timeout");
    }
  }

  /** For connections that sweep their streams (HTTP/2): when the stream last saw a byte either way. */
  public long lastActivityNanos() {
    return lastActivityNanos;
  }

  /** stream_idle_timeout, as the HTTP/2 connection's sweep finds it: 408 before a response, else a reset. */
  public void onStreamIdleTimeout() {
    if (done) {
      return;
    }
    hcm.stats().rqIdleTimeout.inc();
    if (responseStarted) {
      addResponseFlag("SI");
      if (upstream != null) {
        upstream.reset();
        upstream = null;
      }
      sink.reset();
      finish(false);
      return;
    }
    localReply(408, "stream timeout", "SI", "stream_idle_timeout");
  }

  private void onTimeout() {
    if (done) {
      return;
    }
    if (cluster != null) {
      cluster.stats().rqTimeout.inc();
    }
    hcm.stats().rqTimeout.inc();
    if (upstream != null) {
      upstream.reset();
      upstream = null;
    }
    localReply(504, "upstream request timeout", "UT", "upstream_response_timeout");
  }

  // ---------------------------------------------------------------- upstream events

  @Override
  public void onUpstreamReady(UpstreamRequest req) {
    if (done) {
      req.release();
      return;
    }
    upstream = req;
    if (!hcm.accessLogs().isEmpty() || hcm.filtersLog() || trace != null) {
      upstreamLocal = req.localAddress();
      upstreamLocalText = req.localAddressText();
      upstreamTls = req.tlsSession();
    }
    upstreamCounted = true;
    upstreamHost = req.host();
    upstreamHost.requestStarted();
    cluster.stats().rqTotal.inc();
    cluster.stats().rqActive.inc();
    if (route.action() instanceof RouteAction.Forward f && f.autoHostRewrite()) {
      RouteRequest.rewriteHost(request, req.host().hostname() + ":" + req.host().address().getPort());
    }
    if (requestSent) { // a retry: the body so far comes from the replay copies
      for (HttpContent c : replay == null ? java.util.List.<HttpContent>of() : replay) {
        pending().add(c.retainedDuplicate());
      }
    }
    requestSent = true;
    if (retry != null && retry.perTryTimeoutMs() > 0) {
      if (perTryTimer == null) {
        perTryTimer = new LoopTimers.Timer() {
          @Override
          protected void expire() {
            onPerTryTimeout();
          }
        };
      }
      perTryTimer.arm(sink.eventLoop(), retry.perTryTimeoutMs());
    }
    if (retry != null && retry.perTryIdleTimeoutMs() > 0) {
      attemptActivityNanos = LoopClock.nanoTime();
      perTryIdleTimer = sink.eventLoop().schedule(this::checkPerTryIdle, retry.perTryIdleTimeoutMs(),
          TimeUnit.MILLISECONDS);
    }
    if (trace != null) { // before the request is written: with spawn_upstream_span the upstream's parent is new
      trace.upstreamAttempt(request.headers(), cluster.config().name(), req.host().address(), req.isHttp2());
    }
    if (!hcm.loggedRequestHeaders().isEmpty()) {
      loggedRequestValues = hcm.loggedRequestHeaders().capture(request.headers());
    }
    ArrayDeque<HttpObject> early = pending;
    LastHttpContent only = early != null && early.size() == 1 && early.peek() instanceof LastHttpContent l
        && !l.content().isReadable() && l.trailingHeaders().isEmpty() ? l : null;
    if (only != null && req.isHttp2()) {
      // a bodiless request goes as one HEADERS frame with END_STREAM rather than HEADERS plus an empty DATA
      ReferenceCountUtil.release(early.poll());
      req.write(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
          Unpooled.EMPTY_BUFFER, request.headers(), io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
    } else {
      req.write(request);
      HttpObject o;
      while (early != null && (o = early.poll()) != null) {
        req.write(o);
      }
    }
    pendingBytes = 0;
    if (!sink.inReadBurst()) {
      req.flush(); // else the read's end flushes it, with the body the same read brought (one send, not two)
    }
    if (downstreamPaused) {
      downstreamPaused = false;
      sink.setReadable(true);
    }
    if (!req.isWritable()) {
      sink.setReadable(false);
    }
  }

  @Override
  public void onUpstreamHostSelected(io.bowline.core.upstream.UpstreamHost host) {
    attemptHost = host;
    if (retry != null && retry.previousPrioritiesFrequency() > 0) {
      if (attemptPriorities == null) {
        attemptPriorities = new java.util.ArrayList<>(4);
      }
      attemptPriorities.add(host.priority());
    }
  }

  /**
   * previous_priorities: the priorities of the attempts so far, counted in whole groups of update_frequency (a
   * priority may take that many attempts before it is left out), or null when none is left out.
   */
  private java.util.@Nullable Set<Integer> excludedPriorities(RetryPolicy p) {
    if (p.previousPrioritiesFrequency() == 0 || attemptPriorities == null) {
      return null;
    }
    int counted = attemptPriorities.size() / p.previousPrioritiesFrequency() * p.previousPrioritiesFrequency();
    return counted == 0 ? null : new java.util.HashSet<>(attemptPriorities.subList(0, counted));
  }

  @Override
  public void onUpstreamFailure(UpstreamFailure failure, String detail) {
    if (done) {
      return;
    }
    logger.debug("upstream failure {} for {}: {}", failure, cluster.config().name(), detail);
    if (attemptHost != null && failure != UpstreamFailure.NO_HEALTHY_HOST && failure != UpstreamFailure.OVERFLOW) {
      cluster.reportLocalFailure(attemptHost);
    }
    if (failure != UpstreamFailure.NO_HEALTHY_HOST && failure != UpstreamFailure.OVERFLOW && retry != null
        && maybeRetry(retry.has(RetryPolicy.CONNECT_FAILURE) || retry.retriesNoResponse())) {
      return;
    }
    switch (failure) {
      case NO_HEALTHY_HOST -> localReply(503, "no healthy upstream", "UH", "no_healthy_upstream");
      case CONNECT_TIMEOUT -> localReply(503,
          "upstream connect error or disconnect/reset before headers. reset reason: connection timeout", "UF",
          "upstream_reset_before_response_started{connection_timeout}");
      case OVERFLOW -> localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: "
          + "overflow", "UO", "upstream_reset_before_response_started{overflow}");
      default -> localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: "
          + "connection failure", "UF", "upstream_reset_before_response_started{connection_failure}");
    }
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    if (done) {
      return;
    }
    if (perTryIdleTimer != null) {
      attemptActivityNanos = LoopClock.nanoTime();
    }
    int code = response.status().code();
    if (code < 200) {
      return; // 1xx from upstream: the proxy already answered Expect itself, and other 1xx are not forwarded
    }
    cluster.stats().responseCode(code);
    if (trace != null) {
      trace.upstreamStatus(code);
    }
    if (vcluster != null && vcluster.stats() != null) {
      vcluster.stats().rqTotal().inc();
      vcluster.stats().codes().count(code);
    }
    if (attemptHost != null) {
      cluster.reportResponse(attemptHost, code);
    }
    if (retry != null) {
      HttpHeaders rh = response.headers();
      String gs = rh.get(GRPC_STATUS);
      int grpcStatus = gs == null ? -1 : parseGrpcStatus(gs);
      if (retry.retriesResponse(code, grpcStatus, rh.contains(X_ENVOY_RATELIMITED), java.util.Set.of())
          || retry.retriesHeaders(rh)) {
        if (maybeRetry(true, rh)) {
          ReferenceCountUtil.release(response); // this attempt's answer is dropped; its stream is already reset
          return;
        }
      } else if (retriesDone > 0) {
        cluster.stats().rqRetrySuccess.inc();
      }
    }
    if (perTryTimer != null) {
      perTryTimer.cancel();
    }
    responseStatus = code;
    responseStarted = true;
    HttpHeaders h = response.headers();
    responseHeaders = h;
    responseCodeDetails = "via_upstream";
    firstResponseNanos = LoopClock.nanoTime() - startNanos;
    ProxyHeaders.stripHopByHop(h, false);
    upstreamServiceMs = (LoopClock.nanoTime() - upstreamStartNanos) / 1_000_000;
    h.set(ProxyHeaders.X_ENVOY_UPSTREAM_SERVICE_TIME, ProxyHeaders.number(upstreamServiceMs));
    h.set(HttpHeaderNames.SERVER, hcm.serverName());
    requestIdInResponse(h);
    if (setCookies != null) {
      for (int i = 0; i < setCookies.size(); i++) {
        h.add(HttpHeaderNames.SET_COOKIE, setCookies.get(i));
      }
    }
    if (weighted != null) {
      weighted.responseHeaders().apply(h, this);
    }
    route.responseHeaders().apply(h, this);
    vhost.responseHeaders().apply(h, this);
    routes.responseHeaders().apply(h, this);
    runResponseFilters(response);
    if (!(response instanceof HttpContent)) {
      sink.write(response);
    }
  }

  @Override
  public void onResponseContent(HttpContent content) {
    if (done || !responseStarted) {
      content.release();
      return;
    }
    bytesSent += content.content().readableBytes();
    if (responseMessages != null) {
      responseMessages.accept(content.content());
    }
    lastActivityNanos = attemptActivityNanos = LoopClock.nanoTime();
    if (throttleBytesPerSecond > 0) {
      if (throttle == null) {
        throttle = new ResponseThrottle(sink, throttleBytesPerSecond, readable -> {
          if (upstream != null) {
            upstream.setReadable(readable && sink.isWritable());
          }
        }, () -> finish(true), () -> lastActivityNanos = LoopClock.nanoTime());
      }
      if (content instanceof LastHttpContent) {
        upstreamResponseEnded(); // the upstream is done: its timers stop while the body trickles out
      }
      throttle.write(content);
      return;
    }
    sink.write(content);
    if (content instanceof LastHttpContent last) {
      if (!last.trailingHeaders().isEmpty()) {
        responseTrailers = last.trailingHeaders();
      }
      upstreamResponseEnded();
      finish(true);
    }
  }

  /** The upstream sent the whole response: its stats, and the timers that only guard the upstream, end here. */
  private void upstreamResponseEnded() {
    cluster.stats().rqCompleted.inc();
    long upstreamNanos = LoopClock.nanoTime() - upstreamStartNanos;
    cluster.stats().rqTime.recordNanos(upstreamNanos);
    if (vcluster != null && vcluster.stats() != null) {
      vcluster.stats().rqTime().recordNanos(upstreamNanos);
    }
    if (throttle != null) {
      timeout.cancel();
      if (perTryTimer != null) {
        perTryTimer.cancel();
      }
      cancelPerTryIdle();
    }
  }

  /** Envoy's response flags accumulate ("DI,FI"); "-" means none. */
  @Override
  public void addResponseFlag(String flag) {
    if (flag.equals("-") || responseFlags.equals(flag) || responseFlags.contains(flag + ",")
        || responseFlags.endsWith("," + flag)) {
      return;
    }
    responseFlags = responseFlags.equals("-") ? flag : responseFlags + "," + flag;
  }

  @Override
  public void setFilterState(String key, String value) {
    if (filterState == null) {
      filterState = new java.util.HashMap<>(4);
    }
    filterState.put(key, value);
  }

  @Override
  public void setDynamicMetadata(String namespace, com.google.protobuf.Struct fields) {
    if (dynamicMetadata == null) {
      dynamicMetadata = new java.util.HashMap<>(2);
    }
    com.google.protobuf.Struct old = dynamicMetadata.get(namespace);
    dynamicMetadata.put(namespace, old == null ? fields : old.toBuilder().putAllFields(fields.getFieldsMap()).build());
  }

  @Override
  public com.google.protobuf.@Nullable Struct dynamicMetadata(String namespace) {
    return dynamicMetadata == null ? null : dynamicMetadata.get(namespace);
  }

  @Override
  public @Nullable String filterState(String key) {
    String v = filterState == null ? null : filterState.get(key);
    return v != null ? v : conn.filterState().get(key); // then the connection's (its network filters')
  }

  @Override
  public void limitResponseRate(long bytesPerSecond) {
    throttleBytesPerSecond = bytesPerSecond;
  }

  @Override
  public void onUpstreamReset(String reason, boolean protocolError) {
    if (done) {
      return;
    }
    upstream = null;
    if (REFUSED_STREAM.equals(reason) && !responseStarted && refusedAttempts < MAX_REFUSED_ATTEMPTS) {
      boolean wasSent = upstreamCounted;
      // the whole request was its headers, so the attempt the upstream refused can be sent again
      boolean replayable = requestEnded && bytesReceived == 0 && !requestTrailers
          && (pending == null || pending.isEmpty());
      if (!wasSent || replayable) {
        // never processed upstream (GOAWAY below it, REFUSED_STREAM, or never opened): safe to send again; a turn
        // later, so that a GOAWAY read in the same burst has retired the connection first
        refusedAttempts++;
        logger.debug("upstream {} refused the stream; sending it again", cluster.config().name());
        releaseUpstreamCounters();
        if (wasSent && replay == null) { // with a retry policy, the replay copies carry the end of the request
          pending().add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        sink.eventLoop().execute(() -> {
          if (!done) {
            cluster.newStream(sink.eventLoop(), true, this, null, 1, requestHash, originalDst);
          }
        });
        return;
      }
    }
    cluster.stats().rqRxReset.inc();
    if (!responseStarted && attemptHost != null) {
      cluster.reportLocalFailure(attemptHost);
    }
    if (!responseStarted && retry != null && maybeRetry(retry.retriesNoResponse()
        || REFUSED_STREAM.equals(reason) && retry.has(RetryPolicy.REFUSED_STREAM)
        || !requestSent && retry.has(RetryPolicy.RESET_BEFORE_REQUEST))) {
      return;
    }
    if (responseStarted) {
      addResponseFlag("UR");
      sink.reset();
      finish(false);
      return;
    }
    if (protocolError) {
      localReply(502, "upstream connect error or disconnect/reset before headers. reset reason: protocol error",
          "UPE", "upstream_reset_before_response_started{protocol_error}");
    } else {
      localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: " + reason,
          reason.equals("connection termination") ? "UC" : "UR",
          "upstream_reset_before_response_started{" + reason.replace(' ', '_') + "}");
    }
  }

  @Override
  public void onUpstreamReadComplete() {
    sink.flush();
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    sink.setReadable(writable);
  }

  @Override
  public void onUpgraded(HttpResponse response, Channel tunnel) {
    if (done) {
      ReferenceCountUtil.release(response);
      tunnel.close();
      return;
    }
    responseStatus = 101;
    cluster.stats().responseCode(101);
    response.headers().set(HttpHeaderNames.SERVER, hcm.serverName());
    sink.write(response);
    sink.flush();
    upstream = null;
    finishStats();
    done = true;
    sink.switchToTunnel(tunnel);
  }

  // ---------------------------------------------------------------- filter callbacks

  @Override
  public EventLoop eventLoop() {
    return sink.eventLoop();
  }

  @Override
  public @Nullable Route route() {
    return route;
  }

  @Override
  public int randomPerMillion() {
    if (randomPerMillion < 0) {
      randomPerMillion = ThreadLocalRandom.current().nextInt(1_000_000);
    }
    return randomPerMillion;
  }

  @Override
  public io.bowline.core.router.RequestLine requestLine() {
    return this;
  }

  @Override
  public @Nullable VirtualHost virtualHost() {
    return route == null ? null : vhost;
  }

  @Override
  public java.net.InetSocketAddress directRemote() {
    return conn.remote();
  }

  @Override
  public java.net.InetSocketAddress downstreamLocal() {
    return conn.local();
  }

  @Override
  public javax.net.ssl.@Nullable SSLSession downstreamTls() {
    return conn.tlsSession();
  }

  @Override
  public @Nullable String requestedServerName() {
    return conn.serverName();
  }

  @Override
  public java.net.InetSocketAddress trustedClient() {
    java.net.InetSocketAddress known = trustedClient;
    if (known != null) {
      return known;
    }
    int hops = hcm.xffNumTrustedHops();
    if (hcm.useRemoteAddress() && hops == 0) {
      return conn.remote();
    }
    // the connection manager already appended the peer when use_remote_address is set, so it counts as a hop
    java.net.InetAddress a = RouteRequest.fromRightOfXff(request.headers().get(ProxyHeaders.X_FORWARDED_FOR), hops);
    known = a == null ? conn.remote() : new java.net.InetSocketAddress(a, 0);
    trustedClient = known;
    return known;
  }

  @Override
  public @Nullable String destinationCluster() {
    if (route == null || !(route.action() instanceof RouteAction.Forward f)) {
      return null;
    }
    if (f.clusterHeader() != null) {
      return request.headers().get(f.clusterHeader());
    }
    if (prePickedFor != route || prePicked == null) {
      prePicked = f.pick(f.totalWeight() > 0 ? ThreadLocalRandom.current().nextInt(f.totalWeight()) : 0);
      prePickedFor = route;
    }
    return prePicked.name();
  }

  @Override
  public @Nullable Object perRouteConfig(String filterName) {
    return route == null ? null : route.perFilterConfig().get(filterName);
  }

  @Override
  public void clearRouteCache() {
    selectRoute();
  }

  @Override
  public void continueRequest() {
    if (!done) {
      runRequestFilters();
    }
  }

  @Override
  public void sendLocalReply(int status, String body, @Nullable Integer grpcStatus, String flag, String details) {
    localReply(status, body, flag, details, grpcStatus);
  }

  @Override
  public void sendLocalReply(int status, String body, @Nullable Integer grpcStatus, String flag, String details,
      java.util.Map<String, String> headers) {
    replyHeaders = headers;
    localReply(status, body, flag, details, grpcStatus);
  }

  // ---------------------------------------------------------------- replies and completion

  private void runResponseFilters(HttpResponse response) {
    if (filters != null) {
      for (int i = filters.length - 1; i >= 0; i--) {
        filters[i].onResponseHeaders(response);
      }
    }
  }

  private void redirect(int status, String location) {
    FullHttpResponse r = LocalReply.http(io.netty.buffer.ByteBufAllocator.DEFAULT, status, "", hcm.serverName());
    r.headers().set(HttpHeaderNames.LOCATION, location);
    sendResponse(r, "-");
  }

  private void localReply(int status, String body, String flag, String details) {
    localReply(status, body, flag, details, null);
  }

  private void localReply(int status, String body, String flag, String details, @Nullable Integer grpcStatus) {
    if (done) {
      return;
    }
    logger.debug("local reply {} {} ({}) for {}", status, flag, details, request == null ? "?" : request.uri());
    responseCodeDetails = details;
    if (upstream != null) {
      upstream.reset();
      upstream = null;
    }
    if (responseStarted) {
      addResponseFlag(flag);
      sink.reset();
      finish(false);
      return;
    }
    if ("DPE".equals(flag)) {
      sink.closeAfterResponse(); // a malformed request (its path): answered, then the connection is not read on
    }
    FullHttpResponse r = grpc
        ? LocalReply.grpc(grpcStatus != null ? grpcStatus : LocalReply.grpcStatusFor(status), body, hcm.serverName())
        : LocalReply.http(io.netty.buffer.ByteBufAllocator.DEFAULT, status, body, hcm.serverName());
    if ("UO".equals(flag)) { // every overflow (circuit breakers) answers with x-envoy-overloaded
      r.headers().set(X_ENVOY_OVERLOADED, "true");
    }
    if (replyHeaders != null) {
      replyHeaders.forEach((k, v) -> r.headers().set(k, v));
      replyHeaders = null;
    }
    sendResponse(r, flag);
  }

  private void sendResponse(FullHttpResponse r, String flag) {
    addResponseFlag(flag);
    responseStatus = r.status().code();
    responseStarted = true;
    responseHeaders = r.headers();
    firstResponseNanos = LoopClock.nanoTime() - startNanos;
    if (responseCodeDetails == null) {
      responseCodeDetails = "direct_response";
    }
    if (request != null && request.method().equals(HttpMethod.HEAD)) {
      r.content().clear();
    }
    requestIdInResponse(r.headers());
    if (route != null && vhost != null && flag.equals("-")) {
      if (weighted != null) {
        weighted.responseHeaders().apply(r.headers(), this);
      }
      route.responseHeaders().apply(r.headers(), this);
      vhost.responseHeaders().apply(r.headers(), this);
      routes.responseHeaders().apply(r.headers(), this);
    }
    runResponseFilters(r);
    bytesSent += r.content().readableBytes();
    sink.write(r);
    sink.flush();
    finish(true);
  }

  private void finish(boolean completed) {
    if (done) {
      return;
    }
    done = true;
    timeout.cancel();
    if (requestTimer != null) {
      requestTimer.cancel();
    }
    if (perTryTimer != null) {
      perTryTimer.cancel();
    }
    cancelPerTryIdle();
    if (retryTimer != null) {
      retryTimer.cancel(false);
      retryTimer = null;
    }
    if (durationTimer != null) {
      durationTimer.cancel(false);
      durationTimer = null;
    }
    releaseReplay();
    releaseRetry();
    if (throttle != null) {
      throttle.release(); // a reset while the body was paced: what waited is dropped
      throttle = null;
    }
    if (breakerRequest != null) {
      breakerRequest.requestDone();
      breakerRequest = null;
    }
    HttpObject o;
    while (pending != null && (o = pending.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
    if (upstream != null) {
      upstream.release();
      upstream = null;
    }
    finishStats();
    if (filters != null) {
      for (HttpFilter f : filters) {
        f.onDestroy();
      }
    }
    if (completed) {
      // a request without a body is whole with its head, even when its end is still on its way from the codec
      sink.streamComplete(requestEnded || bodyless);
    }
  }

  /**
   * Sets the request's x-request-id as Envoy's connection manager does and returns it: a new one when there is none,
   * or at the edge (an external request with use_remote_address) unless preserve_external_request_id — a kept
   * external id loses any trace reason packed into it, so no client can force its own trace.
   */
  private @Nullable CharSequence requestId(HttpHeaders h) {
    var values = h.valueCharSequenceIterator(ProxyHeaders.X_REQUEST_ID);
    CharSequence id = values.hasNext() ? values.next() : null;
    var config = hcm.requestId();
    // external requests lost x-envoy-force-trace with the other x-envoy-* controls: only an internal one can ask
    idInResponse = config.alwaysSetInResponse() || internal && h.contains(ProxyHeaders.X_ENVOY_FORCE_TRACE);
    if (!config.generate()) {
      return id;
    }
    boolean edge = !internal && hcm.useRemoteAddress();
    if (id == null || id.length() == 0 || edge && !config.preserveExternal()) {
      id = io.bowline.core.filter.RequestIds.uuidAscii();
      h.set(ProxyHeaders.X_REQUEST_ID, id);
    } else if (edge && config.packTraceReason()) {
      CharSequence cleared = io.bowline.core.filter.RequestIds.withTraceReason(id,
          io.bowline.core.filter.RequestIds.TraceReason.NOT_TRACEABLE);
      if (cleared != id) {
        id = cleared;
        h.set(ProxyHeaders.X_REQUEST_ID, id);
      }
    }
    return id;
  }

  /**
   * The request's x-request-id in the response, with always_set_request_id_in_response or when the request (from an
   * internal caller) asked for a forced trace.
   */
  private void requestIdInResponse(HttpHeaders response) {
    if (!idInResponse || request == null) {
      return;
    }
    String id = request.headers().get(ProxyHeaders.X_REQUEST_ID);
    if (id != null) {
      response.set(ProxyHeaders.X_REQUEST_ID, id);
    }
  }

  private void finishStats() {
    hcm.stats().rqActive.dec();
    releaseUpstreamCounters();
    if (responseStatus > 0) {
      hcm.stats().responseCode(responseStatus);
      hcm.stats().rqCompleted.inc();
    }
    long elapsed = LoopClock.nanoTime() - startNanos;
    hcm.stats().rqTime().recordNanos(elapsed);
    if ((!hcm.accessLogs().isEmpty() || hcm.filtersLog() || trace != null && trace.sampled()) && request != null) {
      accessLog(elapsed);
    }
  }

  private void releaseUpstreamCounters() {
    if (upstreamCounted) {
      upstreamCounted = false;
      cluster.stats().rqActive.dec();
      upstreamHost.requestEnded();
    }
  }

  /** The finished stream's facts for its reporting filters, tracer and access logs, all read on this event loop. */
  private void accessLog(long elapsedNanos) {
    AccessLogFacts f = new AccessLogFacts();
    f.startEpochMillis = System.currentTimeMillis() - elapsedNanos / 1_000_000;
    f.durationNanos = elapsedNanos;
    f.requestDoneNanos = requestDoneNanos;
    f.firstResponseNanos = firstResponseNanos;
    f.requestHeaders = request.headers();
    if (loggedRequestValues != null) {
      f.loggedRequestHeaders = hcm.loggedRequestHeaders();
      f.loggedRequestValues = loggedRequestValues;
    }
    f.responseHeaders = responseHeaders;
    f.responseTrailers = responseTrailers;
    f.method = request.method().name();
    f.path = request.uri();
    f.scheme = conn.tls() ? "https" : "http";
    f.protocol = sink.isHttp2() ? "HTTP/2" : request.protocolVersion().text();
    f.responseCode = responseStatus;
    f.responseFlags = responseFlags;
    f.responseCodeDetails = responseCodeDetails;
    f.bytesReceived = bytesReceived;
    f.bytesSent = bytesSent;
    if (requestMessages != null) {
      f.requestMessages = requestMessages.messages();
      f.responseMessages = responseMessages.messages();
    }
    f.upstreamCluster = cluster == null ? null : cluster.config().name();
    f.upstreamClusterGeneration = cluster == null ? null : cluster.config();
    f.upstreamHost = upstreamHost == null ? null : upstreamHost.address();
    f.upstreamHostText = upstreamHost == null ? null : upstreamHost.addressString();
    f.upstreamLocal = upstreamLocal;
    f.upstreamLocalText = upstreamLocalText;
    f.upstreamTls = upstreamTls;
    f.upstreamHostMetadata = upstreamHost == null ? null : upstreamHost.filterMetadata();
    f.upstreamProtocol = upstreamHost == null ? null : upstreamHttp2 ? "HTTP/2" : "HTTP/1.1";
    f.attemptCount = upstreamHost == null && retriesDone == 0 ? 0 : retriesDone + 1;
    f.downstreamRemote = trustedClient();
    f.downstreamDirectRemote = conn.remote();
    f.downstreamLocal = conn.local();
    f.downstreamRemoteText = f.downstreamRemote == conn.remote() ? conn.remoteText() : null;
    f.downstreamDirectRemoteText = conn.remoteText();
    f.downstreamLocalText = conn.localText();
    f.requestedServerName = conn.serverName();
    f.tls = conn.tlsSession();
    f.routeName = route == null ? null : route.name();
    f.virtualClusterName = vcluster == null ? null : vcluster.name();
    f.connectionId = conn.id();
    // the facts are read only here, on this loop, before the stream is gone: its own maps, not copies
    f.filterState = filterState;
    f.dynamicMetadata = dynamicMetadata;
    f.grpcStatus = grpc ? grpcStatus() : -1;
    f.trace = trace;
    if (filters != null && hcm.filtersLog()) {
      for (HttpFilter filter : filters) {
        filter.onLog(f);
      }
    }
    if (trace != null) {
      trace.finish(f, route == null ? null : route.decoratorOperation(),
          route == null ? null : route.metadata().getFilterMetadataMap(), cluster);
    }
    if (!hcm.accessLogs().isEmpty()) {
      io.bowline.core.accesslog.AccessLogger.logAll(hcm.accessLogs(), f);
    }
  }

  /** The gRPC status of a gRPC request: from trailers, else headers (trailers-only), else mapped from HTTP. */
  private int grpcStatus() {
    String s = responseTrailers == null ? null : responseTrailers.get(GRPC_STATUS);
    if (s == null && responseHeaders != null) {
      s = responseHeaders.get(GRPC_STATUS);
    }
    if (s != null) {
      return parseGrpcStatus(s);
    }
    return responseStatus == 0 ? -1 : responseStatus == 200 ? 2 : LocalReply.grpcStatusFor(responseStatus);
  }


  public String responseFlags() {
    return responseFlags;
  }
}
