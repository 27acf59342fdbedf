package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * One {@code hash_policy} entry of a route: what of the request feeds the consistent-hashing load balancer. A cookie
 * policy with a TTL ({@code cookieTtlSeconds} at least 0; 0 makes a session cookie) has the proxy generate the cookie
 * when the request lacks it, so the client sticks from its first request on.
 */
public record HashPolicy(Kind kind, String name, boolean terminal, long cookieTtlSeconds, String cookiePath) {
  public HashPolicy(Kind kind, String name, boolean terminal) {
    this(kind, name, terminal, -1, "");
  }

  /** Whether a missing cookie is generated. */
  public boolean generatesCookie() {
    return kind == Kind.COOKIE && cookieTtlSeconds >= 0;
  }

  /**
   * The cookie Envoy generates for a connection: the hex of xxHash64 over its remote and local addresses, so the
   * streams of one connection get the same value.
   */
  public static String generatedCookieValue(InetSocketAddress remote, InetSocketAddress local) {
    return String.format("%016x", io.bowline.core.upstream.XxHash64.hash(
        io.bowline.core.transport.AddressText.of(remote) + io.bowline.core.transport.AddressText.of(local)));
  }

  /** The Set-Cookie value: {@code name="value"; Max-Age=ttl; Path=path; HttpOnly}, as Envoy writes it. */
  public String setCookie(String value) {
    StringBuilder sb = new StringBuilder(name).append("=\"").append(value).append('"');
    if (cookieTtlSeconds > 0) {
      sb.append("; Max-Age=").append(cookieTtlSeconds);
    }
    if (!cookiePath.isEmpty()) {
      sb.append("; Path=").append(cookiePath);
    }
    return sb.append("; HttpOnly").toString();
  }

  /** The request property hashed. */
  public enum Kind { HEADER, COOKIE, SOURCE_IP, QUERY_PARAMETER, FILTER_STATE }

  /** The value to hash for this request, or null when the request has none (the policy then does not apply). */
  public @Nullable String value(HttpHeaders headers, @Nullable String query, InetSocketAddress source) {
    return value(headers, query, source, java.util.Map.of());
  }

  /** The same, with the stream's filter state (string objects filters set by key) for {@code filter_state}. */
  public @Nullable String value(HttpHeaders headers, @Nullable String query, InetSocketAddress source,
      java.util.Map<String, String> filterState) {
    return switch (kind) {
      case HEADER -> headers.get(name);
      case SOURCE_IP -> io.bowline.core.transport.AddressText.ip(source);
      case COOKIE -> cookie(headers.get("cookie"), name);
      case QUERY_PARAMETER -> QueryParameterMatcher.firstValue(query, name);
      case FILTER_STATE -> filterState.get(name);
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
        String v = p.substring(eq + 1);
        // a quoted value is hashed without its quotes, as Envoy parses cookies (and writes the ones it generates)
        return v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"'
            ? v.substring(1, v.length() - 1) : v;
      }
    }
    return null;
  }
}
