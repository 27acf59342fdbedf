package io.bowline.core.router;

import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** What a matched route does. */
public sealed interface RouteAction {

  /** Forward to a cluster (or one of weighted clusters), with rewrites and a timeout. */
  record Forward(
      List<WeightedCluster> clusters,
      int totalWeight,
      @Nullable String prefixRewrite,
      @Nullable Pattern regexRewrite,
      @Nullable String regexSubstitution,
      @Nullable String hostRewriteLiteral,
      boolean autoHostRewrite,
      long timeoutMs,
      boolean upgradesAllowed,
      String timeoutText,
      @Nullable RetryPolicy retryPolicy,
      List<HashPolicy> hashPolicies,
      List<Mirror> mirrors) implements RouteAction {

    public Forward {
      clusters = List.copyOf(clusters);
      hashPolicies = List.copyOf(hashPolicies);
      mirrors = List.copyOf(mirrors);
    }

    /** The route timeout as the x-envoy-expected-rq-timeout-ms value, formatted once. */
    public String timeoutHeaderValue() {
      return timeoutText;
    }

    public String pickCluster(int draw) {
      if (clusters.size() == 1) {
        return clusters.get(0).name();
      }
      int acc = 0;
      for (WeightedCluster c : clusters) {
        acc += c.weight();
        if (draw < acc) {
          return c.name();
        }
      }
      return clusters.get(clusters.size() - 1).name();
    }
  }

  /** A request_mirror_policies entry: the shadow cluster, the share of requests mirrored (per million). */
  record Mirror(String cluster, int perMillion, boolean appendShadowSuffix) {}

  /** A cluster with its weight in a weighted_clusters action. */
  record WeightedCluster(String name, int weight) {}

  /** A redirect answered by the proxy. */
  record Redirect(
      @Nullable String scheme,
      @Nullable String host,
      int port,
      @Nullable String path,
      @Nullable String prefixRewrite,
      @Nullable Pattern regexRewrite,
      @Nullable String regexSubstitution,
      int status,
      boolean stripQuery) implements RouteAction {}

  /** A response answered by the proxy. */
  record DirectResponse(int status, byte @Nullable [] body) implements RouteAction {}
}
