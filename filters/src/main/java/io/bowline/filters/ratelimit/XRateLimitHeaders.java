package io.bowline.filters.ratelimit;

import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import java.util.List;

/**
 * The draft-03 RateLimit header fields from a rate limit service's answer, as Envoy writes them: the limit of the
 * descriptor closest to its limit followed by each limit's quota policy ({@code 10, 10;w=60, 100;w=3600}), that
 * descriptor's remaining requests, and the seconds until its window resets.
 */
final class XRateLimitHeaders {
  private XRateLimitHeaders() {}

  static void of(List<RateLimitResponse.DescriptorStatus> statuses, List<String[]> out) {
    RateLimitResponse.DescriptorStatus closest = null;
    StringBuilder policies = new StringBuilder();
    for (RateLimitResponse.DescriptorStatus s : statuses) {
      if (!s.hasCurrentLimit()) {
        continue;
      }
      if (closest == null || s.getLimitRemaining() < closest.getLimitRemaining()) {
        closest = s;
      }
      RateLimitResponse.RateLimit l = s.getCurrentLimit();
      policies.append(", ").append(l.getRequestsPerUnit()).append(";w=").append(windowSeconds(l.getUnit()));
      if (!l.getName().isEmpty()) {
        policies.append(";name=\"").append(l.getName()).append('"');
      }
    }
    if (closest == null) {
      return;
    }
    out.add(new String[] {"x-ratelimit-limit", closest.getCurrentLimit().getRequestsPerUnit() + policies.toString()});
    out.add(new String[] {"x-ratelimit-remaining", Integer.toString(closest.getLimitRemaining())});
    if (closest.hasDurationUntilReset()) {
      out.add(new String[] {"x-ratelimit-reset", Long.toString(closest.getDurationUntilReset().getSeconds())});
    }
  }

  private static long windowSeconds(RateLimitResponse.RateLimit.Unit unit) {
    return switch (unit) {
      case SECOND -> 1;
      case MINUTE -> 60;
      case HOUR -> 3600;
      case DAY -> 86400;
      case MONTH -> 2_592_000; // 30 days
      case YEAR -> 31_536_000;
      default -> 0;
    };
  }
}
