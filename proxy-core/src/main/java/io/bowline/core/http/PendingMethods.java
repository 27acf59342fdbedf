package io.bowline.core.http;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * The methods of an HTTP/1.1 connection's requests that still wait for their responses, oldest first, for the codecs
 * that frame a response by its request's method (HEAD, CONNECT). One request at a time is the common case and lives in
 * a field of the codec's own object; only pipelined requests take a deque — an ArrayDeque per codec was two more
 * objects, and two more cache misses per request, on a proxy serving many connections.
 */
public final class PendingMethods {
  private @Nullable HttpMethod oldest;
  private @Nullable ArrayDeque<HttpMethod> later;

  public void add(HttpMethod method) {
    if (oldest == null) {
      oldest = method;
      return;
    }
    if (later == null) {
      later = new ArrayDeque<>(4);
    }
    later.addLast(method);
  }

  /** Whether no request waits for its response. */
  public boolean isEmpty() {
    return oldest == null;
  }

  /** The oldest method, removed; null when none waits. */
  public @Nullable HttpMethod poll() {
    HttpMethod m = oldest;
    if (m != null) {
      oldest = later == null ? null : later.pollFirst();
    }
    return m;
  }
}
