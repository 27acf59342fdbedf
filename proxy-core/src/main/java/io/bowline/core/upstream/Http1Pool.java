package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.transport.LoopClock;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.ArrayDeque;

/**
 * The HTTP/1.1 connections of one host on one event loop. Only that loop touches it, so it needs no locks; idle
 * connections are reused most-recently-used first, which keeps the warm ones warm and lets the rest time out.
 */
final class Http1Pool {
  /** The ALPN protocols its connections offer instead of the cluster's (istio.alpn), or null. */
  private final java.util.@org.jspecify.annotations.Nullable List<String> alpn;
  private final Cluster cluster;
  private final UpstreamHost host;
  private final EventLoop loop;
  private final ArrayDeque<Http1Connection> idle = new ArrayDeque<>();
  private final Bootstrap bootstrap;
  /** The host left the cluster: busy connections finish their request and close instead of going idle. */
  private boolean retired;

  Http1Pool(Cluster cluster, UpstreamHost host, EventLoop loop,
      java.util.@org.jspecify.annotations.Nullable List<String> alpn) {
    this.alpn = alpn;
    this.cluster = cluster;
    this.host = host;
    this.loop = loop;
    ClusterConfig c = cluster.config();
    this.bootstrap = cluster.withSocketOptions(new Bootstrap()).group(loop)
        .channel(cluster.transport().socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, c.connectTimeoutMs()))
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(c.perConnectionBufferLimitBytes() / 2, c.perConnectionBufferLimitBytes()))
        .handler(new io.netty.channel.ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            // handlers are added once connected (connect() below), where the connection object is known
          }
        });
  }

  ClusterStats stats() {
    return cluster.stats();
  }

  UpstreamHost host() {
    return host;
  }

  void acquire(UpstreamListener listener) {
    Http1Connection c;
    long idleLimit = cluster.config().poolIdleTimeoutMs() * 1_000_000L;
    while ((c = idle.pollFirst()) != null) {
      if (c.isUsable() && (idleLimit <= 0 || LoopClock.nanoTime() - c.idleSinceNanos < idleLimit)) {
        c.attach(listener);
        listener.onUpstreamReady(c);
        return;
      }
      c.channel().close();
    }
    connect(listener);
  }

  void release(Http1Connection c) {
    if (retired) {
      c.channel().close();
      return;
    }
    int max = cluster.config().maxRequestsPerConnection();
    if (max > 0 && c.requestsServed() >= max) {
      c.channel().close();
      return;
    }
    c.idleSinceNanos = LoopClock.nanoTime();
    idle.addFirst(c);
  }

  void forget(Http1Connection c) {
    idle.remove(c);
  }

  void retire() {
    retired = true;
    closeIdle();
  }

  void closeIdle() {
    Http1Connection c;
    while ((c = idle.pollFirst()) != null) {
      c.channel().close();
    }
  }

  void closeIdleOlderThan(long nanos) {
    long now = LoopClock.nanoTime();
    idle.removeIf(c -> {
      if (now - c.idleSinceNanos > nanos) {
        c.channel().close();
        return true;
      }
      return false;
    });
  }

  private void connect(UpstreamListener listener) {
    ClusterStats stats = cluster.stats();
    CircuitBreaker breaker = cluster.breaker();
    if (!breaker.tryConnection()) {
      listener.onUpstreamFailure(UpstreamFailure.OVERFLOW, "max_connections reached");
      return;
    }
    if (!breaker.tryPending()) {
      breaker.connectionClosed();
      listener.onUpstreamFailure(UpstreamFailure.OVERFLOW, "max_pending_requests reached");
      return;
    }
    stats.cxTotal.inc();
    stats.cxHttp1Total.inc();
    stats.rqPendingTotal.inc();
    long start = LoopClock.nanoTime();
    ChannelFuture f = cluster.connect(bootstrap, host.address());
    Channel ch = f.channel();
    Http1Connection conn = new Http1Connection(this, ch,
        new Http1ClientCodec(cluster.config().maxResponseHeadersCount(), cluster.config().http1Trailers()));
    ch.closeFuture().addListener(closed -> breaker.connectionClosed());
    f.addListener(done -> {
      breaker.pendingDone();
      if (!done.isSuccess()) {
        boolean timeout = done.cause() instanceof ConnectTimeoutException;
        (timeout ? stats.cxConnectTimeout : stats.cxConnectFail).inc();
        listener.onUpstreamFailure(timeout ? UpstreamFailure.CONNECT_TIMEOUT : UpstreamFailure.CONNECT_FAILURE,
            String.valueOf(done.cause().getMessage()));
        return;
      }
      stats.cxActive.inc();
      stats.cxConnectMs.recordNanos(LoopClock.nanoTime() - start);
      ChannelPipeline p = ch.pipeline();
      if (cluster.usesTls(host)) {
        SslHandler ssl = cluster.newSslHandler(ch.alloc(), host, alpn);
        if (ssl == null) {
          listener.onUpstreamFailure(UpstreamFailure.TLS_FAILURE, "the cluster's TLS secrets have not arrived");
          ch.close();
          return;
        }
        p.addLast(ssl);
        p.addLast(stats.meter(start));
        p.addLast(conn.codec());
        p.addLast(conn);
        p.addLast(new TlsReadyHandler(() -> {
          cluster.addUpstreamFilters(ch, ssl);
          conn.attach(listener);
          listener.onUpstreamReady(conn);
        }, cause -> {
          stats.cxConnectFail.inc();
          listener.onUpstreamFailure(UpstreamFailure.TLS_FAILURE, cause);
          ch.close();
        }));
        return;
      }
      p.addLast(stats.meter(start));
      p.addLast(conn.codec());
      p.addLast(conn);
      conn.attach(listener);
      listener.onUpstreamReady(conn);
    });
  }

  /** Waits for the upstream TLS handshake before the connection is handed out. */
  static final class TlsReadyHandler extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final Runnable ready;
    private final java.util.function.Consumer<String> failed;

    TlsReadyHandler(Runnable ready, java.util.function.Consumer<String> failed) {
      this.ready = ready;
      this.failed = failed;
    }

    @Override
    public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        ctx.pipeline().remove(this);
        if (e.isSuccess()) {
          ready.run();
        } else {
          failed.accept("TLS error: " + io.bowline.core.tls.HandshakeFailure.describe(e.cause()));
        }
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }
  }
}
