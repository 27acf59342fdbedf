package io.bowline.core.accesslog;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The request headers a connection manager reads when a stream ends — its access logs' {@code %REQ(...)%} headers,
 * and Host for the reporting filters — taken when the request is forwarded upstream, the last point where bowline
 * changes them, while the encoder has them in cache. Under load a request's headers were decoded many requests
 * before its stream ends, so looking each up again then costs cache misses: in the observability benchmark's
 * profile those lookups were a fifth of the access-log line and half of Istio's recording.
 */
public final class LoggedRequestHeaders {
  public static final LoggedRequestHeaders NONE = new LoggedRequestHeaders(new AsciiString[0]);

  private final AsciiString[] names;

  private LoggedRequestHeaders(AsciiString[] names) {
    this.names = names;
  }

  /** The headers {@code logs} read, and Host when reporting filters log ({@code filtersLog}). */
  public static LoggedRequestHeaders of(List<AccessLogger> logs, boolean filtersLog) {
    return ofFormats(logs.stream().map(AccessLogger::format).toList(), filtersLog);
  }

  static LoggedRequestHeaders ofFormats(List<LogFormat> formats, boolean filtersLog) {
    Set<AsciiString> names = new LinkedHashSet<>();
    for (LogFormat format : formats) {
      names.addAll(format.requestHeaderNames());
    }
    if (filtersLog) {
      names.add(HttpHeaderNames.HOST);
    }
    return names.isEmpty() ? NONE : new LoggedRequestHeaders(names.toArray(new AsciiString[0]));
  }

  public boolean isEmpty() {
    return names.length == 0;
  }

  /**
   * Each name's first value in {@code h}, null where absent, in this capture's order: the values themselves — a
   * codec's are views of the request's own header bytes, which nothing changes once parsed — not String copies, so
   * a line copies their bytes and only a reader that needs a String makes one.
   */
  public @Nullable CharSequence[] capture(HttpHeaders h) {
    @Nullable CharSequence[] values = new CharSequence[names.length];
    for (int i = 0; i < names.length; i++) {
      values[i] = io.bowline.core.filter.HeaderValues.first(h, names[i]);
    }
    return values;
  }

  /** Where {@code name} is in this capture (names are lower case), or -1. */
  int indexOf(CharSequence name) {
    for (int i = 0; i < names.length; i++) {
      AsciiString n = names[i];
      if (n == name || n.contentEqualsIgnoreCase(name)) {
        return i;
      }
    }
    return -1;
  }
}
