package io.bowline.core.http;

import io.bowline.core.upstream.Cluster;
import io.bowline.core.upstream.UpstreamFailure;
import io.bowline.core.upstream.UpstreamListener;
import io.bowline.core.upstream.UpstreamRequest;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * A shadow copy of a request (a route's {@code request_mirror_policies}), fire and forget: its body chunks are
 * shared with the original (retained duplicates, no copies), its response is dropped, and it is given up — never
 * waited for — when it cannot keep up: more than 1 MiB waiting for a connection, or an upstream that stops taking
 * bytes. Nothing about it reaches the original request.
 */
final class MirrorStream implements UpstreamListener {
  private static final long PENDING_LIMIT = 1024 * 1024;

  private final Cluster cluster;
  private final HttpRequest request;
  private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
  private long pendingBytes;
  private @Nullable UpstreamRequest upstream;
  private boolean abandoned;
  private boolean requestEnded;

  MirrorStream(Cluster cluster, HttpRequest original, boolean appendShadowSuffix) {
    this.cluster = cluster;
    this.request = new DefaultHttpRequest(original.protocolVersion(), original.method(), original.uri(),
        original.headers().copy());
    String host = request.headers().get(HttpHeaderNames.HOST);
    if (appendShadowSuffix && host != null) {
      request.headers().set(HttpHeaderNames.HOST, shadowHost(host));
    }
  }

  /** Envoy appends "-shadow" to the host, before any port. */
  static String shadowHost(String host) {
    int colon = host.lastIndexOf(':');
    boolean port = colon > 0 && host.indexOf(']') < colon && host.substring(colon + 1).chars().allMatch(Character::isDigit);
    return port ? host.substring(0, colon) + "-shadow" + host.substring(colon) : host + "-shadow";
  }

  /** Sends the copy; it is given up at the route's timeout, like the original (0: no timeout). */
  void start(EventLoop loop, boolean http2, long timeoutMs) {
    cluster.newStream(loop, http2, this);
    if (timeoutMs > 0) {
      loop.schedule(this::abandon, timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  /** A chunk of the original request's body (owned: a retained duplicate). */
  void onContent(HttpContent content) {
    if (abandoned) {
      content.release();
      return;
    }
    if (content instanceof LastHttpContent) {
      requestEnded = true;
    }
    UpstreamRequest u = upstream;
    if (u == null) {
      pendingBytes += content.content().readableBytes();
      pending.add(content);
      if (pendingBytes > PENDING_LIMIT) {
        abandon();
      }
      return;
    }
    if (!u.isWritable()) {
      content.release();
      abandon(); // a shadow never applies back-pressure to the original
      return;
    }
    u.write(content);
    u.flush();
  }

  /** The original stream was reset before its request ended: the copy cannot be completed. */
  void onOriginalReset() {
    if (!requestEnded) {
      abandon();
    }
  }

  private void abandon() {
    if (abandoned && upstream == null && pending.isEmpty()) {
      return;
    }
    abandoned = true;
    HttpContent c;
    while ((c = pending.poll()) != null) {
      c.release();
    }
    if (upstream != null) {
      upstream.reset();
      upstream = null;
    }
  }

  @Override
  public void onUpstreamReady(UpstreamRequest req) {
    if (abandoned) {
      req.release();
      return;
    }
    upstream = req;
    cluster.stats().rqTotal.inc();
    req.write(request);
    HttpContent c;
    while ((c = pending.poll()) != null) {
      req.write(c);
    }
    pendingBytes = 0;
    req.flush();
  }

  @Override
  public void onUpstreamFailure(UpstreamFailure failure, String detail) {
    abandon();
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    ReferenceCountUtil.release(response);
  }

  @Override
  public void onResponseContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (last && upstream != null) {
      if (requestEnded) {
        upstream.release();
      } else {
        upstream.reset();
      }
      upstream = null;
      abandoned = true;
    }
  }

  @Override
  public void onUpstreamReset(String reason, boolean protocolError) {
    upstream = null;
    abandon();
  }

  @Override
  public void onUpstreamReadComplete() {}

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {}
}
