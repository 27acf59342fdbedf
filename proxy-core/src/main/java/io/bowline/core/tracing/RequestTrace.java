package io.bowline.core.tracing;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.accesslog.RequestHeaderName;
import io.bowline.core.filter.RequestIds;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The trace of one request: Envoy's sampling decision, this proxy's span context — written into the request for
 * the upstream as the parent of what comes next — and, when the stream ends, its span (when sampled).
 */
public final class RequestTrace {
  private static final HexFormat HEX = HexFormat.of();
  private static final io.netty.util.AsciiString REQUEST_ID = io.netty.util.AsciiString.cached("x-request-id");
  private static final io.netty.util.AsciiString CLIENT_TRACE_ID =
      io.netty.util.AsciiString.cached("x-client-trace-id");
  private static final io.netty.util.AsciiString FORCE_TRACE = io.netty.util.AsciiString.cached("x-envoy-force-trace");
  // the span's tags read the request as forwarded: from the access log's capture where it has them
  private static final RequestHeaderName LOGGED_REQUEST_ID = new RequestHeaderName(REQUEST_ID);
  private static final RequestHeaderName LOGGED_HOST =
      new RequestHeaderName(io.netty.handler.codec.http.HttpHeaderNames.HOST);
  private static final RequestHeaderName LOGGED_USER_AGENT =
      new RequestHeaderName(io.netty.handler.codec.http.HttpHeaderNames.USER_AGENT);
  private static final RequestHeaderName LOGGED_DOWNSTREAM_CLUSTER =
      new RequestHeaderName(io.netty.util.AsciiString.cached("x-envoy-downstream-service-cluster"));
  private final TracingConfig config;
  private final @Nullable List<CustomTag> routeTags;
  private final long traceIdHigh;
  private final long traceIdLow;
  private final long spanId;
  private final String parentSpanId;
  private final String traceState;
  private final boolean sampled;
  private final long startNanos;
  /**
   * With spawn_upstream_span: the current upstream attempt's span (id 0: none yet), when it began, where it went and
   * the status it got; and the spans of attempts already over (a retry's), kept only when sampled.
   */
  private long attemptSpanId;
  private long attemptStartNanos;
  private @Nullable String attemptCluster;
  private java.net.@Nullable InetSocketAddress attemptHost;
  private boolean attemptHttp2;
  private int attemptStatus;
  private @Nullable List<SpanRecord> attemptsDone;

  private RequestTrace(TracingConfig config, @Nullable List<CustomTag> routeTags, long traceIdHigh, long traceIdLow,
      long spanId, String parentSpanId, String traceState, boolean sampled) {
    this.config = config;
    this.routeTags = routeTags;
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.traceState = traceState;
    this.sampled = sampled;
    this.startNanos = io.bowline.core.transport.LoopClock.nanoTime(); // wall-clock start: worked out if sampled
  }

  /**
   * Starts the trace of a request whose headers are {@code request} and whose x-request-id is {@code requestId} (after
   * the id is set and the route chosen). Envoy's decision first, as its connection manager makes it: by the request
   * id — no usable id, no trace —, a reason the id already carries ({@code pack_trace_reason}: a proxy before this one
   * decided), else {@code x-client-trace-id} with client sampling, {@code x-envoy-force-trace} (kept from internal
   * callers only), or random sampling by the id; then overall sampling. The decision is packed into the id. A caller's
   * own sampled flag, when it sends trace context, decides this span.
   */
  public static RequestTrace start(TracingConfig config, TracingConfig.@Nullable RouteTracing route,
      HttpHeaders request, @Nullable CharSequence requestId) {
    Propagation p = config.tracer().propagation();
    boolean carried = p.carried(request);
    SpanContext parent = carried ? p.extract(request) : null;
    boolean decided = decide(config, route, request, requestId);
    boolean sampled = parent != null ? parent.isSampled() : decided;
    // ids stay numbers: most requests are not sampled, and their only text is the header written for the upstream
    long high;
    long low;
    String traceState = "";
    if (parent != null) {
      String id = parent.getTraceId();
      high = Long.parseUnsignedLong(id, 0, 16, 16);
      low = Long.parseUnsignedLong(id, 16, 32, 16);
      TraceState state = parent.getTraceState();
      if (!state.isEmpty()) {
        StringBuilder ts = new StringBuilder();
        state.forEach((k, v) -> ts.append(ts.length() == 0 ? "" : ",").append(k).append('=').append(v));
        traceState = ts.toString();
      }
    } else {
      high = config.tracer().traceId128() ? nonZero() : 0;
      low = nonZero();
    }
    long spanId = nonZero();
    p.inject(high, low, spanId, parent != null ? parent.getSpanId() : "", sampled, traceState, request, carried);
    return new RequestTrace(config, route == null || route.customTags().isEmpty() ? null : route.customTags(),
        high, low, spanId, parent != null ? parent.getSpanId() : "", traceState, sampled);
  }

  /** The connection manager's tracing decision (Envoy's {@code mutateTracingRequestHeader}), packed into the id. */
  private static boolean decide(TracingConfig config, TracingConfig.@Nullable RouteTracing route, HttpHeaders request,
      @Nullable CharSequence requestId) {
    int client = route != null && route.clientPerMillion() != null ? route.clientPerMillion()
        : config.clientPerMillion();
    int random = route != null && route.randomPerMillion() != null ? route.randomPerMillion()
        : config.randomPerMillion();
    int overall = route != null && route.overallPerMillion() != null ? route.overallPerMillion()
        : config.overallPerMillion();
    if (!config.samplingByRequestId()) { // the id plays no part: a draw of its own, and nothing packed
      int draw = ThreadLocalRandom.current().nextInt(1_000_000);
      boolean traced = request.contains(CLIENT_TRACE_ID) && draw < client || request.contains(FORCE_TRACE)
          || draw < random;
      return traced && draw < overall;
    }
    long n = RequestIds.integer(requestId);
    if (n < 0) {
      return false; // as Envoy: a request without a usable id is not traced, forced or not
    }
    int draw = (int) (n % 10_000) * 100; // Envoy draws in ten-thousandths; the rates are per million
    RequestIds.TraceReason reason = config.packTraceReason() ? RequestIds.traceReason(requestId)
        : RequestIds.TraceReason.NOT_TRACEABLE;
    if (reason == RequestIds.TraceReason.NOT_TRACEABLE) {
      if (request.contains(CLIENT_TRACE_ID) && ThreadLocalRandom.current().nextInt(1_000_000) < client) {
        reason = RequestIds.TraceReason.CLIENT_FORCED;
      } else if (request.contains(FORCE_TRACE)) { // external requests lost it with the x-envoy-* controls
        reason = RequestIds.TraceReason.SERVICE_FORCED;
      } else if (draw < random) {
        reason = RequestIds.TraceReason.SAMPLING;
      }
    }
    if (reason != RequestIds.TraceReason.NOT_TRACEABLE && draw >= overall) {
      reason = RequestIds.TraceReason.NOT_TRACEABLE;
    }
    if (config.packTraceReason()) {
      CharSequence packed = RequestIds.withTraceReason(requestId, reason);
      if (packed != requestId) {
        request.set(REQUEST_ID, packed);
      }
    }
    return reason != RequestIds.TraceReason.NOT_TRACEABLE;
  }

  public boolean sampled() {
    return sampled;
  }

  /**
   * An upstream attempt begins (its request not yet written). With spawn_upstream_span it gets a span of its own, a
   * child of this one named {@code router <cluster> egress}, and the upstream sees that span as its parent; an
   * attempt before it (a retry's) ends here.
   */
  public void upstreamAttempt(HttpHeaders request, String cluster, java.net.InetSocketAddress host, boolean http2) {
    if (!config.spawnUpstreamSpan()) {
      return;
    }
    if (attemptSpanId != 0 && sampled) {
      if (attemptsDone == null) {
        attemptsDone = new java.util.ArrayList<>(2);
      }
      attemptsDone.add(attemptSpan(attemptStatus, attemptStatus == 0 ? "UF" : "-", null));
    }
    attemptSpanId = nonZero();
    attemptStartNanos = System.nanoTime();
    attemptCluster = cluster;
    attemptHost = host;
    attemptHttp2 = http2;
    attemptStatus = 0;
    config.tracer().propagation().inject(traceIdHigh, traceIdLow, attemptSpanId, HEX.toHexDigits(spanId), sampled,
        traceState, request, true);
  }

  /** The current upstream attempt's response status, as its headers arrive. */
  public void upstreamStatus(int status) {
    attemptStatus = status;
  }

  /** The current attempt's span, ending now; Envoy's upstream span tags. */
  private SpanRecord attemptSpan(int status, String flags, @Nullable String hostText) {
    Tags tags = new Tags(20);
    tags.put("component", "proxy");
    tags.put("http.protocol", attemptHttp2 ? "HTTP/2" : "HTTP/1.1");
    if (attemptHost != null) {
      Object address = hostText != null ? hostText : new SpanRecord.Address(attemptHost, true);
      tags.put("upstream_address", address);
      tags.put("peer.address", address);
    }
    tags.put("upstream_cluster", attemptCluster);
    tags.put("upstream_cluster.name", attemptCluster);
    tags.put("http.status_code", new SpanRecord.Number(status));
    tags.put("response_flags", flags);
    boolean error = status == 0 || status >= 500;
    if (error) {
      tags.put("error", "true");
    }
    long end = System.currentTimeMillis() * 1_000_000L;
    long start = end - (System.nanoTime() - attemptStartNanos);
    return new SpanRecord(traceIdHigh, traceIdLow, attemptSpanId, HEX.toHexDigits(spanId), traceState,
        "router " + attemptCluster + " egress", false, start, end, tags.pairs, tags.count, error);
  }

  public String traceId() {
    return HEX.toHexDigits(traceIdHigh) + HEX.toHexDigits(traceIdLow);
  }

  /**
   * The stream ended: its span goes to the exporter when sampled. {@code operation} is the route's decorator. The
   * tags are gathered here, on the event loop, as the values it holds; the exporter thread formats them.
   */
  public void finish(AccessLogFacts f, @Nullable String operation) {
    finish(f, operation, null, null);
  }

  /**
   * The same, with the route's metadata and the upstream cluster (whose metadata is decoded only for a sampled span
   * that tags some of it) for custom tags of those kinds.
   */
  public void finish(AccessLogFacts f, @Nullable String operation,
      @Nullable Map<String, com.google.protobuf.Struct> routeMetadata,
      io.bowline.core.upstream.@Nullable Cluster cluster) {
    if (!sampled) {
      return;
    }
    Metadata metadata = new Metadata(f, routeMetadata, cluster);
    Tags tags = new Tags(40 + 2 * (config.customTags().size() + (routeTags == null ? 0 : routeTags.size())));
    tags.put("component", "proxy");
    tags.put("node_id", config.nodeId());
    if (config.zone() != null && !config.zone().isEmpty()) {
      tags.put("zone", config.zone());
    }
    HttpHeaders h = f.requestHeaders;
    CharSequence rid = f.firstRequestHeader(LOGGED_REQUEST_ID); // made text on the exporter thread
    if (rid != null) {
      tags.put("guid:x-request-id", rid);
    }
    CharSequence host = f.firstRequestHeader(LOGGED_HOST);
    tags.put("http.url", new SpanRecord.Url(f.scheme == null ? "http" : f.scheme, host == null ? "" : host,
        f.path == null ? "" : f.path, config.maxPathTagLength()));
    tags.put("http.method", f.method == null ? "-" : f.method);
    CharSequence downstreamCluster = f.firstRequestHeader(LOGGED_DOWNSTREAM_CLUSTER);
    tags.put("downstream_cluster", downstreamCluster == null ? "-" : downstreamCluster);
    CharSequence ua = f.firstRequestHeader(LOGGED_USER_AGENT);
    tags.put("user_agent", ua == null ? "-" : ua);
    tags.put("http.protocol", f.protocol == null ? "-" : f.protocol);
    if (f.downstreamDirectRemote != null) {
      tags.put("peer.address", new SpanRecord.Address(f.downstreamDirectRemote, false));
    }
    tags.put("request_size", new SpanRecord.Number(f.bytesReceived));
    tags.put("response_size", new SpanRecord.Number(f.bytesSent));
    if (f.upstreamCluster != null) {
      tags.put("upstream_cluster", f.upstreamCluster);
      tags.put("upstream_cluster.name", f.upstreamCluster);
    }
    if (f.upstreamHost != null) {
      tags.put("upstream_address", f.upstreamHostText != null ? f.upstreamHostText
          : new SpanRecord.Address(f.upstreamHost, true));
    }
    tags.put("http.status_code", new SpanRecord.Number(f.responseCode));
    tags.put("response_flags", f.responseFlags);
    boolean error = f.responseCode == 0 || f.responseCode >= 500;
    if (error) {
      tags.put("error", "true");
    }
    for (CustomTag t : config.customTags()) {
      tags.put(t, h, metadata.of(t));
    }
    if (routeTags != null) {
      for (CustomTag t : routeTags) {
        tags.put(t, h, metadata.of(t));
      }
    }
    String name = operation != null && !operation.isEmpty() ? operation
        : config.egress() ? "egress " + (host == null ? "" : host) : "ingress";
    if (attemptsDone != null) {
      for (SpanRecord attempt : attemptsDone) {
        config.tracer().exporter().export(attempt);
      }
    }
    if (attemptSpanId != 0) { // the last attempt ends with the stream, with what the stream got
      config.tracer().exporter().export(attemptSpan(attemptStatus != 0 ? attemptStatus : f.responseCode,
          f.responseFlags, f.upstreamHostText));
    }
    long end = System.currentTimeMillis() * 1_000_000L;
    long startEpochNanos = end - (System.nanoTime() - startNanos);
    // a proxy that spawns upstream spans is a hop of its own: its downstream span is a server one either way (Envoy)
    config.tracer().exporter().export(new SpanRecord(traceIdHigh, traceIdLow, spanId, parentSpanId, traceState,
        name, !config.egress() || config.spawnUpstreamSpan(), startEpochNanos, end, tags.pairs, tags.count, error));
  }

  /** The metadata a finished stream's custom tags may read, by Envoy's kinds. */
  private record Metadata(AccessLogFacts f, @Nullable Map<String, com.google.protobuf.Struct> route,
      io.bowline.core.upstream.@Nullable Cluster cluster) {
    @Nullable Map<String, com.google.protobuf.Struct> of(CustomTag t) {
      return switch (t.metadataKind()) {
        case REQUEST -> f.dynamicMetadata;
        case ROUTE -> route;
        case CLUSTER -> cluster == null ? null : cluster.filterMetadata();
        case HOST -> f.upstreamHostMetadata;
      };
    }
  }

  /** A span's tags as name/value pairs, in the order set. */
  private static final class Tags {
    final Object[] pairs;
    int count;

    Tags(int capacity) {
      pairs = new Object[capacity];
    }

    void put(String name, Object value) {
      pairs[count++] = name;
      pairs[count++] = value;
    }

    /** A custom tag read now, while the request's headers and metadata are the stream's; absent: left out. */
    void put(CustomTag t, @Nullable HttpHeaders h, @Nullable Map<String, com.google.protobuf.Struct> metadata) {
      String v = t.valueFor(h, metadata);
      if (v != null) {
        put(t.tag(), v);
      }
    }
  }

  /** A random id, never zero (an invalid one). */
  private static long nonZero() {
    long v;
    do {
      v = ThreadLocalRandom.current().nextLong();
    } while (v == 0);
    return v;
  }
}
