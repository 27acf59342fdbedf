package io.bowline.core.accesslog;

/** The facts of one finished request that Envoy's default access-log format prints; formatted off the event loop. */
public record AccessLogEntry(
    long startMillis,
    String method,
    String path,
    String protocol,
    int responseCode,
    String responseFlags,
    long bytesReceived,
    long bytesSent,
    long durationMs,
    String upstreamServiceTime,
    String forwardedFor,
    String userAgent,
    String requestId,
    String authority,
    String upstreamHost) {

  /** Envoy's default format: {@code [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% ...}. */
  public String format() {
    StringBuilder sb = new StringBuilder(200);
    sb.append('[').append(java.time.Instant.ofEpochMilli(startMillis)).append("] \"")
        .append(method).append(' ').append(escape(path)).append(' ').append(protocol).append("\" ")
        .append(responseCode).append(' ').append(responseFlags).append(' ')
        .append(bytesReceived).append(' ').append(bytesSent).append(' ').append(durationMs).append(' ')
        .append(upstreamServiceTime).append(" \"").append(escape(forwardedFor)).append("\" \"")
        .append(escape(userAgent)).append("\" \"").append(escape(requestId)).append("\" \"")
        .append(escape(authority)).append("\" \"").append(upstreamHost).append("\"\n");
    return sb.toString();
  }

  /** Control bytes from the request are escaped so a log line is always one line (HOSTILE-INPUTS HDR-08). */
  static String escape(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '"') {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        for (int j = 0; j < s.length(); j++) {
          char d = s.charAt(j);
          if (d < 0x20 || d == 0x7f) {
            sb.append(String.format("\\x%02x", (int) d));
          } else if (d == '"') {
            sb.append("\\\"");
          } else {
            sb.append(d);
          }
        }
        return sb.toString();
      }
    }
    return s;
  }
}
