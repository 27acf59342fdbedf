package io.bowline.filters.ratelimit;

import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.ThreadLocalRandom;

/** One stream's local rate-limit decision: the route's limit if it has one, else the connection manager's. */
final class LocalRateLimitFilter implements HttpFilter {
  private final LocalRateLimitFactory.Limit base;
  private final String filterName;
  private final HttpFilterCallbacks callbacks;
  private LocalRateLimitFactory.@org.jspecify.annotations.Nullable Limit limited;

  LocalRateLimitFilter(LocalRateLimitFactory.Limit base, String filterName, HttpFilterCallbacks callbacks) {
    this.base = base;
    this.filterName = filterName;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    LocalRateLimitFactory.Limit l = callbacks.perRouteConfig(filterName) instanceof LocalRateLimitFactory.Limit r
        ? r : base;
    if (l.bucket() == null || !draw(l.enabledPerMillion())) {
      return FilterStatus.CONTINUE;
    }
    l.enabled().inc();
    if (l.bucket().tryTake()) {
      l.ok().inc();
      return FilterStatus.CONTINUE;
    }
    l.rateLimited().inc();
    if (!draw(l.enforcedPerMillion())) {
      return FilterStatus.CONTINUE;
    }
    l.enforced().inc();
    limited = l;
    callbacks.sendLocalReply(l.status(), "local_rate_limited", null, "RL", "local_rate_limited");
    return FilterStatus.STOP_ITERATION;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    if (limited != null) {
      response.headers().set("x-envoy-ratelimited", "true");
      for (String[] h : limited.responseHeaders()) { // Envoy: added to each rate-limited response
        response.headers().set(h[0], h[1]);
      }
    }
  }

  private static boolean draw(int perMillion) {
    return perMillion >= 1_000_000 || perMillion > 0 && ThreadLocalRandom.current().nextInt(1_000_000) < perMillion;
  }
}
