package io.bowline.core.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** Header edits every proxied request and response gets, as Envoy's connection manager and router make them. */
public final class ProxyHeaders {
  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  static final AsciiString X_ENVOY_FORCE_TRACE = AsciiString.cached("x-envoy-force-trace");
  static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME = AsciiString.cached("x-envoy-upstream-service-time");
  static final AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS = AsciiString.cached("x-envoy-expected-rq-timeout-ms");
  static final AsciiString X_ENVOY_ORIGINAL_PATH = AsciiString.cached("x-envoy-original-path");
  static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
  static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  static final AsciiString HTTP2_SETTINGS = AsciiString.cached("http2-settings");
  /** Header values the proxy writes, as bytes a codec copies whole (a String is encoded one char at a time). */
  static final AsciiString HTTP = AsciiString.cached("http");
  static final AsciiString HTTPS = AsciiString.cached("https");
  private static final AsciiString[] SMALL_NUMBERS = new AsciiString[1000];

  static {
    for (int i = 0; i < SMALL_NUMBERS.length; i++) {
      SMALL_NUMBERS[i] = AsciiString.cached(Integer.toString(i));
    }
  }

  /** Decimal text of a non-negative number; values under 1000 (service times in ms) come from a table. */
  static AsciiString number(long n) {
    return n >= 0 && n < SMALL_NUMBERS.length ? SMALL_NUMBERS[(int) n] : new AsciiString(Long.toString(n));
  }

  private ProxyHeaders() {}

  /**
   * Whether every Connection value is just "keep-alive", as nearly every upstream's is: an option naming only the
   * Keep-Alive field, which goes by its own bit, so nothing needs splitting or a String.
   */
  private static boolean onlyKeepAlive(HttpHeaders h) {
    for (java.util.Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(HttpHeaderNames.CONNECTION);
        it.hasNext(); ) {
      if (!AsciiString.contentEqualsIgnoreCase(it.next(), KEEP_ALIVE)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Removes hop-by-hop headers (RFC 9110 §7.6.1): Connection and the headers it names, Keep-Alive,
   * Proxy-Connection, Transfer-Encoding, TE (except "trailers"), and Upgrade unless the exchange is an upgrade.
   * Netty's own extension headers from HTTP/2 conversion go too.
   */
  public static void stripHopByHop(HttpHeaders h, boolean keepUpgrade) {
    int present = hopByHopNames(h);
    if (present == 0) {
      return; // the common case: one pass over the names, no lookups
    }
    if ((present & CONNECTION) != 0) {
      if (!onlyKeepAlive(h)) {
        for (String connection : h.getAll(HttpHeaderNames.CONNECTION)) {
          for (String token : connection.split(",")) {
            String name = token.trim();
            if (!name.isEmpty() && !(keepUpgrade && name.equalsIgnoreCase("upgrade"))) {
              h.remove(name);
            }
          }
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    if ((present & KEEP_ALIVE_BIT) != 0) {
      h.remove(KEEP_ALIVE);
    }
    if ((present & PROXY_CONNECTION_BIT) != 0) {
      h.remove(PROXY_CONNECTION);
    }
    if ((present & TRANSFER_ENCODING) != 0) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
    }
    if ((present & HTTP2_SETTINGS_BIT) != 0) {
      h.remove(HTTP2_SETTINGS);
    }
    if (!keepUpgrade && (present & UPGRADE) != 0) {
      h.remove(HttpHeaderNames.UPGRADE);
    }
    if ((present & TE) != 0) {
      String te = h.get(HttpHeaderNames.TE);
      if (te != null) {
        if (te.toLowerCase(java.util.Locale.ROOT).contains("trailers")) {
          h.set(HttpHeaderNames.TE, "trailers");
        } else {
          h.remove(HttpHeaderNames.TE);
        }
      }
    }
    if ((present & X_HTTP2) != 0) {
      removeHttp2Extensions(h);
    }
  }

  /** Netty's x-http2-* conversion headers never leave the proxy. */
  private static void removeHttp2Extensions(HttpHeaders h) {
    java.util.List<String> names = new java.util.ArrayList<>(4);
    for (String name : h.names()) {
      if (name.length() > 7 && name.regionMatches(true, 0, "x-http2-", 0, 8)) {
        names.add(name);
      }
    }
    names.forEach(h::remove);
  }

  private static final int CONNECTION = 1;
  private static final int KEEP_ALIVE_BIT = 1 << 1;
  private static final int PROXY_CONNECTION_BIT = 1 << 2;
  private static final int TRANSFER_ENCODING = 1 << 3;
  private static final int HTTP2_SETTINGS_BIT = 1 << 4;
  private static final int UPGRADE = 1 << 5;
  private static final int TE = 1 << 6;
  private static final int X_HTTP2 = 1 << 7;

  /**
   * Which hop-by-hop headers and Netty HTTP/2 extensions are present, as bits: one pass over the names, comparing
   * lengths first, so that only the names present cost a hashed removal.
   */
  private static int hopByHopNames(HttpHeaders h) {
    int present = 0;
    java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
    while (it.hasNext()) {
      CharSequence n = it.next().getKey();
      switch (n.length()) {
        case 2: // te
          if (AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.TE)) {
            present |= TE;
          }
          break;
        case 7: // upgrade
          if (AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.UPGRADE)) {
            present |= UPGRADE;
          }
          break;
        case 10: // connection, keep-alive
          if (AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.CONNECTION)) {
            present |= CONNECTION;
          } else if (AsciiString.contentEqualsIgnoreCase(n, KEEP_ALIVE)) {
            present |= KEEP_ALIVE_BIT;
          }
          break;
        case 14: // http2-settings
          if (AsciiString.contentEqualsIgnoreCase(n, HTTP2_SETTINGS)) {
            present |= HTTP2_SETTINGS_BIT;
          }
          break;
        case 16: // proxy-connection
          if (AsciiString.contentEqualsIgnoreCase(n, PROXY_CONNECTION)) {
            present |= PROXY_CONNECTION_BIT;
          }
          break;
        case 17: // transfer-encoding
          if (AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.TRANSFER_ENCODING)) {
            present |= TRANSFER_ENCODING;
          }
          break;
        default:
          break;
      }
      if (n.length() > 8 && (n.charAt(0) == 'x' || n.charAt(0) == 'X') && n.charAt(6) == '2'
          && AsciiString.regionMatches(n, true, 0, "x-http2-", 0, 8)) {
        present |= X_HTTP2;
      }
    }
    return present;
  }

  /** Whether any header name starts with {@code x-envoy-} (any case): one pass, no hashing. */
  static boolean hasEnvoyHeader(HttpHeaders h) {
    java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
    while (it.hasNext()) {
      CharSequence n = it.next().getKey();
      if (n.length() > 8 && (n.charAt(0) == 'x' || n.charAt(0) == 'X') && n.charAt(1) == '-'
          && AsciiString.regionMatches(n, true, 0, "x-envoy-", 0, 8)) {
        return true;
      }
    }
    return false;
  }
}
