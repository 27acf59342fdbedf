package io.bowline.filters.ratelimit;

import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.router.RateLimitPolicy;
import io.bowline.core.router.Route;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * One stream's call to the global rate limit service. The request is held (STOP_ITERATION) from the call until the
 * answer, which comes back on the stream's event loop; a stream that ends first cancels the call.
 */
final class GlobalRateLimitFilter implements HttpFilter {
  private final GlobalRateLimitFactory.Config config;
  private final String filterName;
  private final HttpFilterCallbacks callbacks;
  /** The held request, whose headers the service's {@code request_headers_to_add} go into; null when not held. */
  private @Nullable HttpRequest held;
  private GlobalRateLimitFactory.@Nullable Counters counters;
  private Context.@Nullable CancellableContext call;
  private boolean destroyed;
  /** Headers for the response: the service's, the config's when limited, and x-ratelimit-*. */
  private @Nullable List<String[]> responseHeaders;

  GlobalRateLimitFilter(GlobalRateLimitFactory.Config config, String filterName, HttpFilterCallbacks callbacks) {
    this.config = config;
    this.filterName = filterName;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    if (!appliesTo(request.headers()) || !draw(config.enabledPerMillion())) {
      return FilterStatus.CONTINUE;
    }
    Route route = callbacks.route();
    String cluster = callbacks.destinationCluster();
    if (route == null || cluster == null) {
      return FilterStatus.CONTINUE; // Envoy asks only for requests that go to a cluster
    }
    GlobalRateLimitFactory.PerRoute perRoute =
        callbacks.perRouteConfig(filterName) instanceof GlobalRateLimitFactory.PerRoute p ? p : null;
    List<List<RateLimitPolicy.Entry>> descriptors = descriptors(route, perRoute, new RequestView(request.headers(), callbacks));
    if (descriptors.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    RateLimitRequest.Builder ask = RateLimitRequest.newBuilder()
        .setDomain(perRoute != null && perRoute.domain() != null ? perRoute.domain() : config.domain());
    for (List<RateLimitPolicy.Entry> d : descriptors) {
      RateLimitDescriptor.Builder b = ask.addDescriptorsBuilder();
      for (RateLimitPolicy.Entry e : d) {
        b.addEntriesBuilder().setKey(e.key()).setValue(e.value());
      }
    }
    held = request;
    counters = config.stats().of(cluster);
    call = Context.current().withCancellation();
    Answer answer = new Answer();
    call.run(() -> config.client().shouldRateLimit(ask.build(), config.timeoutMs(), answer));
    return FilterStatus.STOP_ITERATION;
  }

  private boolean appliesTo(HttpHeaders h) {
    return switch (config.requestType()) {
      case BOTH -> true;
      case INTERNAL -> "true".equals(h.get("x-envoy-internal"));
      case EXTERNAL -> !"true".equals(h.get("x-envoy-internal"));
    };
  }

  /**
   * Envoy's order: the route's limits of this stage (or, per route, replaced by / joined with the per-route
   * {@code rate_limits}), then the virtual host's per {@code vh_rate_limits} (or the route's include_vh_rate_limits).
   */
  private List<List<RateLimitPolicy.Entry>> descriptors(Route route, GlobalRateLimitFactory.@Nullable PerRoute pr,
      RequestView r) {
    List<List<RateLimitPolicy.Entry>> out = new ArrayList<>();
    RateLimitPolicy routeLimits = route.rateLimits();
    if (pr != null && !pr.rateLimits().isEmpty()) {
      switch (pr.override()) {
        case DEFAULT, OVERRIDE_POLICY -> routeLimits = pr.rateLimits();
        case INCLUDE_POLICY -> out.addAll(pr.rateLimits().descriptors(config.stage(), r));
        case IGNORE_POLICY -> { }
      }
    }
    (pr == null ? VhRateLimits.OVERRIDE : pr.vh()).addDescriptors(route, routeLimits, callbacks.virtualHost(),
        config.stage(), r, out);
    return out;
  }

  /** The service answered (on the event loop). */
  private void onAnswer(RateLimitResponse answer) {
    if (destroyed || held == null) {
      return;
    }
    HttpRequest request = held;
    held = null;
    call = null;
    switch (answer.getOverallCode()) {
      case OK -> {
        counters.ok().inc();
        for (HeaderValue h : answer.getRequestHeadersToAddList()) {
          request.headers().set(h.getKey(), h.getValue());
        }
        keepResponseHeaders(answer, false);
        callbacks.continueRequest();
      }
      case OVER_LIMIT -> {
        counters.overLimit().inc();
        if (!draw(config.enforcedPerMillion())) {
          keepResponseHeaders(answer, false);
          callbacks.continueRequest();
          return;
        }
        keepResponseHeaders(answer, true);
        callbacks.sendLocalReply(config.limitedStatus(), "", config.grpcStatusWhenLimited(), "RL",
            "request_rate_limited");
      }
      default -> onFailure("the service answered " + answer.getOverallCode());
    }
  }

  /** The call failed or timed out (on the event loop). */
  private void onFailure(String why) {
    if (destroyed || held == null && call == null) {
      return;
    }
    held = null;
    call = null;
    counters.error().inc();
    if (config.failureModeDeny()) {
      callbacks.sendLocalReply(config.errorStatus(), "", null, "RLSE", "rate_limiter_error");
      return;
    }
    counters.failureModeAllowed().inc();
    callbacks.continueRequest();
  }

  private void keepResponseHeaders(RateLimitResponse answer, boolean limited) {
    List<String[]> out = new ArrayList<>();
    for (HeaderValue h : answer.getResponseHeadersToAddList()) {
      out.add(new String[] {h.getKey().toLowerCase(Locale.ROOT), h.getValue()});
    }
    if (limited) {
      out.addAll(config.responseHeaders());
      if (config.xEnvoyRateLimitedHeader()) {
        out.add(new String[] {"x-envoy-ratelimited", "true"});
      }
    }
    if (config.xRateLimitHeaders()) {
      XRateLimitHeaders.of(answer.getStatusesList(), out);
    }
    responseHeaders = out.isEmpty() ? null : out;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    if (responseHeaders != null) {
      for (String[] h : responseHeaders) {
        response.headers().set(h[0], h[1]);
      }
    }
  }

  @Override
  public void onDestroy() {
    destroyed = true;
    Context.CancellableContext c = call;
    if (c != null) {
      call = null;
      c.cancel(null); // the stream ended first: the call is not needed any more
    }
  }

  private static boolean draw(int perMillion) {
    return perMillion >= 1_000_000 || perMillion > 0 && ThreadLocalRandom.current().nextInt(1_000_000) < perMillion;
  }

  /** Receives the answer on gRPC's thread and hands it to the stream's event loop, once. */
  private final class Answer implements StreamObserver<RateLimitResponse> {
    private @Nullable RateLimitResponse response;

    @Override
    public void onNext(RateLimitResponse value) {
      response = value;
    }

    @Override
    public void onError(Throwable t) {
      String why = t.getMessage();
      callbacks.eventLoop().execute(() -> onFailure(why));
    }

    @Override
    public void onCompleted() {
      RateLimitResponse r = response;
      callbacks.eventLoop().execute(() -> {
        if (r == null) {
          onFailure("no answer");
        } else {
          onAnswer(r);
        }
      });
    }
  }
}
