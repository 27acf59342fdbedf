package io.bowline.filters.ratelimit;

import io.bowline.core.router.RateLimitPolicy;
import io.bowline.core.router.Route;
import io.bowline.core.router.VirtualHost;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code vh_rate_limits}, as both rate-limit filters read it (the local filter's and the global per-route config's
 * enums share these numbers): whether the virtual host's rate limits join the route's.
 */
enum VhRateLimits {
  /** The virtual host's limits only when the route has none. */
  OVERRIDE,
  INCLUDE,
  IGNORE;

  static VhRateLimits ofNumber(int protoNumber) {
    return switch (protoNumber) {
      case 1 -> INCLUDE;
      case 2 -> IGNORE;
      default -> OVERRIDE;
    };
  }

  /**
   * Adds the descriptors of {@code routeLimits} at {@code stage}, then the virtual host's when this option (or the
   * route's deprecated include_vh_rate_limits) says so.
   */
  void addDescriptors(Route route, RateLimitPolicy routeLimits, @Nullable VirtualHost vh, int stage,
      RateLimitPolicy.Request r, List<List<RateLimitPolicy.Entry>> out) {
    out.addAll(routeLimits.descriptors(stage, r));
    boolean withVh = route.includeVhRateLimits() || switch (this) {
      case OVERRIDE -> routeLimits.isEmpty();
      case INCLUDE -> true;
      case IGNORE -> false;
    };
    if (withVh && vh != null) {
      out.addAll(vh.rateLimits().descriptors(stage, r));
    }
  }
}
