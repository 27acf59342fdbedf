package io.bowline.core.admin;

import io.bowline.core.stats.StatsChunks;
import io.bowline.core.upstream.Cluster;
import io.bowline.core.upstream.UpstreamHost;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Envoy's admin endpoints. Mutating ones require POST, as Envoy's do. */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final String TEXT = "text/plain; charset=UTF-8";
  private static final String JSON = "application/json";

  private final AdminContext server;
  private final Instant loaded;

  AdminHandler(AdminContext server, Instant loaded) {
    this.server = server;
    this.loaded = loaded;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
    QueryStringDecoder q = new QueryStringDecoder(req.uri());
    Map<String, List<String>> params = q.parameters();
    boolean post = req.method().equals(HttpMethod.POST);
    if (q.path().equals("/stats/prometheus") || q.path().equals("/stats")) {
      stats(ctx, params, q.path().equals("/stats/prometheus")
          || params.containsKey("format") && params.get("format").contains("prometheus"), HttpUtil.isKeepAlive(req));
      return;
    }
    FullHttpResponse r = switch (q.path()) {
      case "/ready" -> server.state().equals("LIVE") ? text(200, "LIVE\n") : text(503, server.state() + "\n");
      case "/config_dump" -> configDump(params);
      case "/clusters" -> clusters(params.containsKey("format") && params.get("format").contains("json"));
      case "/listeners" -> listeners(params.containsKey("format") && params.get("format").contains("json"));
      case "/server_info" -> respond(200, JSON, AdminJson.serverInfo(server));
      case "/certs" -> respond(200, JSON, Certs.render(server, Instant.now()));
      case "/quitquitquit" -> post(post, () -> server.quit(), "OK\n");
      case "/healthcheck/fail" -> post(post, () -> server.setHealthCheckFailed(true), "OK\n");
      case "/healthcheck/ok" -> post(post, () -> server.setHealthCheckFailed(false), "OK\n");
      case "/drain_listeners" -> post(post, () -> server.drainListeners(params.containsKey("graceful")), "OK\n");
      case "/logging" -> logging(post, params);
      case "/reopen_logs" -> post(post, server::reopenLogs, "OK\n");
      case "/", "/help" -> text(200, help());
      default -> text(404, "invalid path. " + help());
    };
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
    r.headers().set("x-content-type-options", "nosniff");
    if (!keepAlive) {
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(r);
    }
  }

  /**
   * Envoy's stats as text or JSON ({@code ?format=json}), or as Prometheus text ({@code /stats/prometheus},
   * {@code ?format=prometheus}, then the mesh metrics), streamed in chunks as the connection takes them: a mesh-sized
   * store's text is tens of megabytes (Prometheus's over a hundred). {@code ?filter=REGEX} keeps the stats whose name
   * it finds (and the mesh metrics whose exposition name it finds), {@code ?usedonly} the stats that have counted
   * something.
   */
  private void stats(ChannelHandlerContext ctx, Map<String, List<String>> params, boolean prometheus,
      boolean keepAlive) {
    Pattern filter = null;
    if (params.containsKey("filter")) {
      try {
        filter = Pattern.compile(params.get("filter").get(0));
      } catch (PatternSyntaxException e) {
        refuse(ctx, "Invalid re2 regex: " + e.getDescription() + "\n");
        return;
      }
    }
    boolean usedOnly = params.containsKey("usedonly");
    List<String> format = params.getOrDefault("format", List.of());
    if (!format.isEmpty() && !List.of("text", "json", "prometheus").contains(format.get(0))) {
      refuse(ctx, "usage: /stats?format=(json|prometheus|text)\n"); // Envoy's html pages are not served here
      return;
    }
    List<String> typeParam = params.getOrDefault("type", List.of());
    StatsChunks.Kinds kinds = StatsChunks.Kinds.of(typeParam.isEmpty() ? null : typeParam.get(0));
    if (kinds == null) {
      refuse(ctx, "invalid &type= param: one of All, Counters, Gauges, Histograms, TextReadouts\n");
      return;
    }
    io.netty.handler.stream.ChunkedInput<io.netty.buffer.ByteBuf> chunks;
    String type;
    if (prometheus) {
      // the mesh metrics (Istio's, counters and histograms) follow only a page of every kind
      chunks = new io.bowline.core.stats.PrometheusChunks(server.stats(), filter, usedOnly,
          kinds.equals(StatsChunks.Kinds.ALL) ? meshMetrics(filter) : "", kinds);
      type = "text/plain; version=0.0.4";
    } else {
      boolean json = format.contains("json");
      chunks = new StatsChunks(server.stats(), filter, usedOnly, json, kinds);
      type = json ? JSON : TEXT;
    }
    io.netty.handler.codec.http.HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(
        HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, max-age=0");
    head.headers().set("x-content-type-options", "nosniff");
    HttpUtil.setTransferEncodingChunked(head, true);
    ctx.write(head);
    var done = ctx.writeAndFlush(new io.netty.handler.codec.http.HttpChunkedInput(chunks));
    if (!keepAlive) {
      done.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static void refuse(ChannelHandlerContext ctx, String why) {
    FullHttpResponse bad = text(400, why);
    bad.headers().set(HttpHeaderNames.CONTENT_LENGTH, bad.content().readableBytes());
    ctx.writeAndFlush(bad);
  }

  /** The mesh metrics' Prometheus text, only the families whose exposition name {@code filter} finds. */
  private String meshMetrics(@org.jspecify.annotations.Nullable Pattern filter) {
    String mesh = server.meshMetricsPrometheus();
    if (filter == null) {
      return mesh;
    }
    StringBuilder kept = new StringBuilder();
    for (String line : mesh.split("\n")) {
      String[] words = line.split(" ", 4);
      String name = line.startsWith("# ") ? words.length > 2 ? words[2] : "" : line.split("[{ ]", 2)[0];
      if (filter.matcher(name).find()) {
        kept.append(line).append('\n');
      }
    }
    return kept.toString();
  }

  private FullHttpResponse clusters(boolean json) {
    if (json) {
      return respond(200, JSON, AdminJson.clusters(server.clusters()));
    }
    StringBuilder sb = new StringBuilder();
    for (Cluster c : server.clusters().all().values()) {
      String n = c.config().name();
      sb.append(n).append("::observability_name::").append(n).append('\n');
      for (UpstreamHost h : c.hosts().hosts()) {
        String p = n + "::" + h.addressString() + "::";
        sb.append(p).append("rq_active::").append(h.activeRequests()).append('\n');
        sb.append(p).append("hostname::").append(h.hostname()).append('\n');
        sb.append(p).append("health_flags::").append(h.healthFlags()).append('\n');
        sb.append(p).append("weight::").append(h.weight()).append('\n');
        sb.append(p).append("priority::").append(h.priority()).append('\n');
      }
    }
    return text(200, sb.toString());
  }

  private FullHttpResponse listeners(boolean json) {
    if (json) {
      return respond(200, JSON, AdminJson.listeners(server.listeners()));
    }
    StringBuilder sb = new StringBuilder();
    for (var b : server.listeners().bound()) {
      var a = b.localAddress();
      sb.append(b.config().name()).append("::").append(io.bowline.core.transport.AddressText.of(a)).append('\n');
    }
    return text(200, sb.toString());
  }

  private FullHttpResponse logging(boolean post, Map<String, List<String>> params) {
    if (!params.isEmpty()) {
      if (!post) {
        return text(405, "This endpoint requires POST\n");
      }
      for (var e : params.entrySet()) {
        String level = e.getValue().isEmpty() ? "" : e.getValue().get(0);
        boolean ok = e.getKey().equals("level") ? server.setLogLevel(null, level)
            : server.setLogLevel(e.getKey(), level);
        if (!ok) {
          return text(404, "error: unknown logger or level " + e.getKey() + "=" + level + "\n"
              + "usage: /logging?<name>=<level> (change single level)\n/logging?level=<level> (change all levels)\n"
              + "levels: trace debug info warning error critical off\n");
        }
      }
    }
    StringBuilder sb = new StringBuilder("active loggers:\n");
    server.logLevels().forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
    return text(200, sb.toString());
  }

  private FullHttpResponse post(boolean post, Runnable action, String body) {
    if (!post) {
      return text(405, "This endpoint requires POST\n");
    }
    action.run();
    return text(200, body);
  }

  private FullHttpResponse configDump(Map<String, List<String>> params) throws Exception {
    try {
      return respond(200, JSON, ConfigDumps.render(server.config(), server.xdsDump(), loaded,
          params.containsKey("include_eds"), ConfigDumpQuery.parse(params)));
    } catch (ConfigDumpQuery.Refused e) {
      return text(e.status, e.getMessage() + "\n");
    }
  }

  private static String help() {
    return "admin commands are:\n"
        + "  /: this list\n  /certs: print certs on machine\n  /clusters: upstream cluster status\n"
        + "  /config_dump: dump current Envoy configs\n"
        + "  /drain_listeners (POST): drain listeners; ?graceful drains connections first\n"
        + "  /reopen_logs (POST): reopen access logs (after rotation)\n"
        + "  /healthcheck/fail (POST): cause the server to fail health checks\n"
        + "  /healthcheck/ok (POST): cause the server to pass health checks\n  /listeners: listener addresses\n"
        + "  /logging: query/change logging levels\n  /quitquitquit (POST): drain and exit\n"
        + "  /ready: LIVE when the server is ready\n  /server_info: server version and state\n"
        + "  /stats: counters and gauges (?filter=REGEX, ?usedonly, ?format=json|prometheus, ?type=Counters|...)\n"
        + "  /stats/prometheus: stats in Prometheus text format (?filter=REGEX, ?usedonly, ?type=...)\n";
  }

  private static FullHttpResponse text(int status, String body) {
    return respond(status, TEXT, body);
  }

  private static FullHttpResponse respond(int status, String type, String body) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, max-age=0");
    return r;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    FullHttpResponse r = text(500, "error: " + cause.getMessage() + "\n");
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
  }
}
