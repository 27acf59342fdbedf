package io.bowline.filters.extauthz;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.ClusterChannels;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.ext_authz} with a gRPC authorization service ({@code envoy.service.auth.v3.Authorization}
 * on an {@code envoy_grpc} cluster): the request is held while the service is asked — with the request's method,
 * path, host, scheme, protocol and headers and the connection's addresses and principal — and the answer comes back
 * on the stream's event loop. OK lets it go on with the service's headers added or removed; a denial answers with the
 * service's status, headers and body (403 by default); an error or a timeout answers {@code status_on_error} (403),
 * or lets the request through with {@code failure_mode_allow}. Per route, {@code ExtAuthzPerRoute.disabled} turns it
 * off. Stats {@code http.<prefix>.ext_authz.ok/denied/error/failure_mode_allowed}.
 */
public final class ExtAuthzFactory implements HttpFilterFactory<ExtAuthz> {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExtAuthzFactory.class);
  @Override
  public String name() {
    return "envoy.filters.http.ext_authz";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz";
  }

  @Override
  public Class<ExtAuthz> configType() {
    return ExtAuthz.class;
  }

  @Override
  public ExtAuthz defaultConfig() {
    return ExtAuthz.getDefaultInstance();
  }

  @Override
  public List<String> routeConfigTypes() {
    return List.of("envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute");
  }

  /**
   * A route's (or virtual host's, the most specific one) ExtAuthzPerRoute: off, or on with {@code check_settings} —
   * context extensions for the gRPC service, no body buffering, or its own with_request_body.
   */
  record RouteSetting(boolean disabled, Map<String, String> contextExtensions, boolean noBody,
      @Nullable BodySetting body) {}

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    try {
      ExtAuthzPerRoute p = typedConfig.unpack(ExtAuthzPerRoute.class);
      var cs = p.getCheckSettings();
      BodySetting body = cs.hasWithRequestBody()
          ? BodySetting.of(cs.getWithRequestBody(), path + ".check_settings.with_request_body") : null;
      return new RouteSetting(p.getDisabled(), Map.copyOf(cs.getContextExtensionsMap()),
          cs.getDisableRequestBodyBuffering(), body);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
    }
  }

  private record Config(String cluster, String authority, long timeoutMs, boolean failureModeAllow, int statusOnError,
      boolean includePeerCertificate, Counters counters, io.bowline.core.filter.ClusterDirectory clusters,
      @Nullable HttpAuthzService http,
      java.util.function.@Nullable Predicate<java.util.function.Function<String, com.google.protobuf.Struct>> enabled,
      int enabledPerMillion, @Nullable BodySetting body) {}

  /** with_request_body: how much of the body the authorizer sees, and whether a longer body may be cut. */
  record BodySetting(int maxBytes, boolean allowPartial, boolean packAsBytes) {
    static BodySetting of(io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings b, String path)
        throws ConfigException {
      if (b.getMaxRequestBytes() == 0) {
        throw new ConfigException(path + ".max_request_bytes", "must be greater than 0");
      }
      return new BodySetting(b.getMaxRequestBytes(), b.getAllowPartialMessage(), b.getPackAsBytes());
    }
  }

  private record Counters(Counter ok, Counter denied, Counter error, Counter failureModeAllowed) {}

  @Override
  public HttpFilterProvider create(ExtAuthz c, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    BodySetting body = c.hasWithRequestBody() ? BodySetting.of(c.getWithRequestBody(), path + ".with_request_body")
        : null;
    HttpAuthzService http = null;
    String cluster;
    long timeout;
    if (c.hasHttpService()) {
      var hs = c.getHttpService();
      cluster = hs.getServerUri().getCluster();
      timeout = hs.getServerUri().hasTimeout() ? hs.getServerUri().getTimeout().getSeconds() * 1000
          + hs.getServerUri().getTimeout().getNanos() / 1_000_000 : AuthzService.DEFAULT_TIMEOUT_MS;
      if (!context.clusters().exists(cluster)) {
        throw new ConfigException(path + ".http_service.server_uri.cluster", "unknown cluster '" + cluster + "'");
      }
      http = HttpAuthzService.compile(hs, timeout, context.clusters(), path + ".http_service");
    } else if (c.hasGrpcService()) {
      AuthzService grpc = AuthzService.of(c.getGrpcService(), path + ".grpc_service", context.clusters());
      cluster = grpc.cluster();
      timeout = grpc.timeoutMs();
    } else {
      throw new ConfigException(path, "grpc_service or http_service is required");
    }
    int onError = c.hasStatusOnError() && c.getStatusOnError().getCodeValue() > 0
        ? c.getStatusOnError().getCodeValue() : 403;
    var scope = context.stats().scope("ext_authz.");
    Config config = new Config(cluster, c.getGrpcService().getEnvoyGrpc().getAuthority(), timeout,
        c.getFailureModeAllow(), onError, c.getIncludePeerCertificate(),
        new Counters(scope.counter("ok"), scope.counter("denied"), scope.counter("error"),
            scope.counter("failure_mode_allowed")), context.clusters(), http,
        c.hasFilterEnabledMetadata() ? io.bowline.filters.rbac.MetadataMatchers.of(c.getFilterEnabledMetadata(),
            path + ".filter_enabled_metadata") : null,
        c.hasFilterEnabled() ? io.bowline.core.compile.Fractions.perMillion(c.getFilterEnabled().getDefaultValue(),
            path + ".filter_enabled.default_value") : 1_000_000, body);
    String filterName = context.filterName();
    return callbacks -> new Filter(config, filterName, callbacks);
  }

  /** Tells the authorizer whether the body it sees was cut at max_request_bytes (Envoy's header). */
  static final String PARTIAL_BODY = "x-envoy-auth-partial-body";

  private static final class Filter implements HttpFilter {
    private final Config config;
    private final String filterName;
    private final HttpFilterCallbacks callbacks;
    private @Nullable HttpRequest held;
    private Map<String, String> extensions = Map.of();
    private @Nullable BodySetting bodySetting;
    private Context.@Nullable CancellableContext call;
    private boolean destroyed;

    Filter(Config config, String filterName, HttpFilterCallbacks callbacks) {
      this.config = config;
      this.filterName = filterName;
      this.callbacks = callbacks;
    }

    @Override
    public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
      RouteSetting route = callbacks.perRouteConfig(filterName) instanceof RouteSetting s ? s : null;
      if (route != null && route.disabled()) {
        return FilterStatus.CONTINUE;
      }
      // filter_enabled_metadata: Istio turns the check on only for requests its CUSTOM policies' shadow rules matched
      if (config.enabled() != null && !config.enabled().test(callbacks::dynamicMetadata)
          || config.enabledPerMillion() < 1_000_000
          && java.util.concurrent.ThreadLocalRandom.current().nextInt(1_000_000) >= config.enabledPerMillion()) {
        return FilterStatus.CONTINUE;
      }
      held = request;
      extensions = route == null ? Map.of() : route.contextExtensions();
      BodySetting b = route == null ? config.body() : route.noBody() ? null
          : route.body() != null ? route.body() : config.body();
      bodySetting = b;
      if (b == null || endStream) {
        ask(request, null);
      } else {
        callbacks.awaitRequestBody(b.maxBytes(), body -> {
          if (!body.complete() && !b.allowPartial()) {
            // Envoy buffers up to max_request_bytes and refuses a longer body unless a partial one may be sent
            callbacks.sendLocalReply(413, "Payload Too Large", null, "-", "request_payload_too_large");
            return;
          }
          ask(request, body);
        });
      }
      return FilterStatus.STOP_ITERATION;
    }

    /** Asks the authorizer about the request (and the start of its body, with_request_body). */
    private void ask(HttpRequest request, HttpFilterCallbacks.@Nullable RequestBody body) {
      if (body != null) {
        request.headers().set(PARTIAL_BODY, body.complete() ? "false" : "true");
      }
      if (config.http() != null) {
        config.http().check(request, body == null ? null : body.bytes(),
            answer -> callbacks.eventLoop().execute(() -> onHttpAnswer(answer)));
        if (body != null) {
          request.headers().remove(PARTIAL_BODY); // for the authorizer, not the upstream
        }
        return;
      }
      CheckRequest check = check(request, body);
      if (body != null) {
        request.headers().remove(PARTIAL_BODY);
      }
      call = Context.current().withCancellation();
      StreamObserver<CheckResponse> answer = new StreamObserver<>() {
        @Override
        public void onNext(CheckResponse r) {
          callbacks.eventLoop().execute(() -> onAnswer(r));
        }

        @Override
        public void onError(Throwable t) {
          callbacks.eventLoop().execute(() -> onFailure(t.toString()));
        }

        @Override
        public void onCompleted() {}
      };
      call.run(() -> AuthorizationGrpc.newStub(ClusterChannels.of(config.clusters(), config.cluster(),
              config.authority()))
          .withDeadlineAfter(config.timeoutMs(), TimeUnit.MILLISECONDS).check(check, answer));
    }

    private CheckRequest check(HttpRequest request, HttpFilterCallbacks.@Nullable RequestBody body) {
      Map<String, String> headers = new HashMap<>();
      request.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue(),
          (a, b) -> a + "," + b));
      String uri = request.uri();
      int q = uri.indexOf('?');
      var http = AttributeContext.HttpRequest.newBuilder()
          .setMethod(request.method().name())
          .setPath(uri)
          .setHost(request.headers().get("host", ""))
          .setScheme(callbacks.downstreamTls() != null ? "https" : "http")
          .setProtocol(request.protocolVersion().text())
          .putAllHeaders(headers);
      if (q >= 0) {
        http.setQuery(uri.substring(q + 1));
      }
      String id = request.headers().get("x-request-id");
      if (id != null) {
        http.setId(id);
      }
      if (body != null) {
        http.setSize(body.received());
        if (bodySetting != null && bodySetting.packAsBytes()) {
          http.setRawBody(com.google.protobuf.ByteString.copyFrom(body.bytes()));
        } else {
          http.setBody(new String(body.bytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      AttributeContext.Builder attrs = AttributeContext.newBuilder()
          .putAllContextExtensions(extensions)
          .setRequest(AttributeContext.Request.newBuilder().setHttp(http))
          .setSource(Peers.peer(callbacks.directRemote(), Peers.principal(callbacks.downstreamTls(), true)))
          .setDestination(Peers.peer(callbacks.downstreamLocal(), ""));
      return CheckRequest.newBuilder().setAttributes(attrs).build();
    }

    /** The service answered (on the event loop). */
    private void onAnswer(CheckResponse r) {
      if (destroyed || held == null) {
        return;
      }
      HttpRequest request = held;
      held = null;
      call = null;
      if (r.getStatus().getCode() == 0) {
        config.counters().ok().inc();
        var ok = r.getOkResponse();
        for (var h : ok.getHeadersList()) {
          if (h.hasAppend() && h.getAppend().getValue()) {
            request.headers().add(h.getHeader().getKey(), h.getHeader().getValue());
          } else {
            request.headers().set(h.getHeader().getKey(), h.getHeader().getValue());
          }
        }
        for (String name : ok.getHeadersToRemoveList()) {
          if (!name.startsWith(":") && !name.equalsIgnoreCase("host")) {
            request.headers().remove(name);
          }
        }
        callbacks.continueRequest();
        return;
      }
      config.counters().denied().inc();
      var denied = r.getDeniedResponse();
      int status = denied.hasStatus() && denied.getStatus().getCodeValue() >= 200
          ? denied.getStatus().getCodeValue() : 403;
      Map<String, String> headers = new HashMap<>();
      for (var h : denied.getHeadersList()) {
        headers.put(h.getHeader().getKey(), h.getHeader().getValue());
      }
      callbacks.sendLocalReply(status, denied.getBody(), null, "UAEX", "ext_authz_denied", headers);
    }

    /** The HTTP service answered or failed (on the event loop). */
    private void onHttpAnswer(HttpAuthzService.Answer a) {
      if (destroyed || held == null) {
        return;
      }
      if (a.error() != null) {
        onFailure(a.error());
        return;
      }
      HttpRequest request = held;
      held = null;
      if (a.status() == 200) {
        config.counters().ok().inc();
        a.upstreamHeaders().forEach((k, v) -> request.headers().set(k, v));
        callbacks.continueRequest();
        return;
      }
      config.counters().denied().inc();
      callbacks.sendLocalReply(a.status(), a.body(), null, "UAEX", "ext_authz_denied", a.clientHeaders());
    }

    /** The call failed or timed out (on the event loop). */
    private void onFailure(String why) {
      if (destroyed || held == null) {
        return;
      }
      held = null;
      call = null;
      config.counters().error().inc();
      LOG.debug("ext_authz: the authorization service failed: {}", why);
      if (config.failureModeAllow()) {
        config.counters().failureModeAllowed().inc();
        callbacks.continueRequest();
        return;
      }
      callbacks.sendLocalReply(config.statusOnError(), "", null, "UAEX", "ext_authz_error");
    }

    @Override
    public void onDestroy() {
      destroyed = true;
      if (call != null) {
        call.cancel(null); // the stream ended first: the service's answer is no longer wanted
        call = null;
      }
    }
  }
}
