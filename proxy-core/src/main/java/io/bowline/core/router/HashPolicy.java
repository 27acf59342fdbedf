package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/** One {@code hash_policy} entry of a route: what of the request feeds the consistent-hashing load balancer. */
public record HashPolicy(Kind kind, String name, boolean terminal) {
  /** The request property hashed. */
  public enum Kind { HEADER, COOKIE, SOURCE_IP, QUERY_PARAMETER }

  /** The value to hash for this request, or null when the request has none (the policy then does not apply). */
  public @Nullable String value(HttpHeaders headers, @Nullable String query, InetSocketAddress source) {
    return switch (kind) {
      case HEADER -> headers.get(name);
      case SOURCE_IP -> source.getAddress().getHostAddress();
      case COOKIE -> cookie(headers.get("cookie"), name);
      case QUERY_PARAMETER -> queryParameter(query, name);
    };
  }

  private static @Nullable String cookie(@Nullable String header, String name) {
    if (header == null) {
      return null;
    }
    for (String part : header.split(";")) {
      String p = part.trim();
      int eq = p.indexOf('=');
      if (eq > 0 && p.substring(0, eq).equals(name)) {
        return p.substring(eq + 1);
      }
    }
    return null;
  }

  private static @Nullable String queryParameter(@Nullable String query, String name) {
    if (query == null) {
      return null;
    }
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      if (k.equals(name)) {
        return eq < 0 ? "" : part.substring(eq + 1);
      }
    }
    return null;
  }
}
