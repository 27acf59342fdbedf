package io.bowline.filters.ratelimit;

import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.router.RateLimitPolicy;
import io.bowline.core.router.RequestLine;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/** A stream's request as the rate-limit descriptor actions read it. */
record RequestView(HttpHeaders headers, HttpFilterCallbacks callbacks) implements RateLimitPolicy.Request {
  @Override
  public RequestLine line() {
    return callbacks.requestLine();
  }

  @Override
  public InetSocketAddress trustedClient() {
    return callbacks.trustedClient();
  }

  @Override
  public @Nullable String destinationCluster() {
    return callbacks.destinationCluster();
  }

  @Override
  public @Nullable String query() {
    String p = callbacks.requestLine().pathWithQuery();
    int q = p.indexOf('?');
    return q < 0 ? null : p.substring(q + 1);
  }
}
