package io.bowline.core.router;

/**
 * What a request's pseudo-headers say, for the header matchers that name them: Istio compiles a VirtualService's
 * {@code method} and {@code scheme} matches to {@code :method} and {@code :scheme}, virtual clusters match on
 * {@code :path}. Implemented by the stream being routed, so nothing is built per request.
 */
public interface RequestLine {
  String method();

  /** A random value in [0, 1,000,000) drawn once for the request (route runtime_fraction matches read it). */
  default int randomPerMillion() {
    return java.util.concurrent.ThreadLocalRandom.current().nextInt(1_000_000);
  }

  /** The path as routed (after normalisation), with its query string. */
  String pathWithQuery();

  /** "https" on a TLS connection, else "http". */
  String scheme();

  /**
   * The value of pseudo-header {@code name} (":method", ":path", ":scheme"; ":authority" is matched as the Host
   * header), or null for any other name, which no request carries.
   */
  default @org.jspecify.annotations.Nullable String pseudo(String name) {
    return switch (name) {
      case ":method" -> method();
      case ":path" -> pathWithQuery();
      case ":scheme" -> scheme();
      default -> null;
    };
  }

  /** A request line from plain values (tests, tools). */
  public static RequestLine of(String method, String pathWithQuery, String scheme) {
    return new RequestLine() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String pathWithQuery() {
        return pathWithQuery;
      }

      @Override
      public String scheme() {
        return scheme;
      }
    };
  }
}
