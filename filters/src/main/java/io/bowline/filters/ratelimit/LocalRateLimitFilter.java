package io.bowline.filters.ratelimit;

import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.router.RateLimitPolicy;
import io.bowline.core.router.Route;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * One stream's local rate-limit decision, with the route's limit if it has one, else the connection manager's. The
 * request's descriptors pick the descriptor buckets they match; those are drawn from the most restrictive first, and
 * the first one empty limits the request. The default bucket is drawn too when nothing matched, or always unless
 * {@code always_consume_default_token_bucket} is false.
 */
final class LocalRateLimitFilter implements HttpFilter {
  private final LocalRateLimitFactory.Limit base;
  private final String filterName;
  private final HttpFilterCallbacks callbacks;
  private LocalRateLimitFactory.@Nullable Limit limited;
  /** The bucket that decided (for x-ratelimit-* headers), or null when none applied. */
  private @Nullable TokenBucket decisive;
  private boolean enabled;
  private LocalRateLimitFactory.@Nullable Limit applied;

  LocalRateLimitFilter(LocalRateLimitFactory.Limit base, String filterName, HttpFilterCallbacks callbacks) {
    this.base = base;
    this.filterName = filterName;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    LocalRateLimitFactory.Limit l = callbacks.perRouteConfig(filterName) instanceof LocalRateLimitFactory.Limit r
        ? r : base;
    if (l.bucket() == null && l.descriptors().isEmpty() || !draw(l.enabledPerMillion())) {
      return FilterStatus.CONTINUE;
    }
    enabled = true;
    applied = l;
    l.enabled().inc();
    if (allowed(l, request.headers())) {
      l.ok().inc();
      return FilterStatus.CONTINUE;
    }
    l.rateLimited().inc();
    if (!draw(l.enforcedPerMillion())) {
      return FilterStatus.CONTINUE;
    }
    l.enforced().inc();
    limited = l;
    callbacks.sendLocalReply(l.status(), "local_rate_limited", l.grpcStatus(), "RL", "local_rate_limited");
    return FilterStatus.STOP_ITERATION;
  }

  private boolean allowed(LocalRateLimitFactory.Limit l, HttpHeaders headers) {
    List<TokenBucket> matched = l.descriptors().isEmpty() ? List.of() : matched(l, headers);
    for (TokenBucket b : matched) {
      decisive = b;
      if (!b.tryTake()) {
        return false;
      }
    }
    if (l.bucket() != null && (matched.isEmpty() || l.alwaysConsumeDefault())) {
      if (matched.isEmpty()) {
        decisive = l.bucket();
      }
      return l.bucket().tryTake();
    }
    return true;
  }

  /** The descriptor buckets this request's descriptors match, most restrictive first. */
  private List<TokenBucket> matched(LocalRateLimitFactory.Limit l, HttpHeaders headers) {
    List<List<RateLimitPolicy.Entry>> descriptors = descriptors(l, new RequestView(headers, callbacks));
    if (descriptors.isEmpty()) {
      return List.of();
    }
    List<TokenBucket> out = new ArrayList<>(2);
    for (List<RateLimitPolicy.Entry> d : descriptors) {
      for (DescriptorBucket db : l.descriptors()) {
        TokenBucket b = db.match(d);
        if (b != null && !out.contains(b)) {
          out.add(b);
          break;
        }
      }
    }
    out.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
    return out;
  }

  /** Envoy's order: the filter's own rate_limits if set; else the route's, and the virtual host's as configured. */
  private List<List<RateLimitPolicy.Entry>> descriptors(LocalRateLimitFactory.Limit l, RequestView r) {
    if (l.ownPolicy() != null) {
      return l.ownPolicy().descriptors(0, r);
    }
    Route route = callbacks.route();
    if (route == null) {
      return List.of();
    }
    List<List<RateLimitPolicy.Entry>> out = new ArrayList<>();
    l.vhRateLimits().addDescriptors(route, route.rateLimits(), callbacks.virtualHost(), l.stage(), r, out);
    return out;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    if (limited != null) {
      response.headers().set("x-envoy-ratelimited", "true");
      for (String[] h : limited.responseHeaders()) { // Envoy: added to each rate-limited response
        response.headers().set(h[0], h[1]);
      }
    }
    if (enabled && applied != null && applied.xRateLimitHeaders() && decisive != null) {
      // draft-03 of the IETF RateLimit header fields, as Envoy writes them
      response.headers().set("x-ratelimit-limit", decisive.maxTokens());
      response.headers().set("x-ratelimit-remaining", decisive.remaining());
      response.headers().set("x-ratelimit-reset", decisive.secondsToNextFill());
    }
  }

  private static boolean draw(int perMillion) {
    return perMillion >= 1_000_000 || perMillion > 0 && ThreadLocalRandom.current().nextInt(1_000_000) < perMillion;
  }
}
