package io.bowline.core.upstream;

import io.bowline.core.config.ClusterConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The HTTP/2 connections of one host on one event loop: usually one, more when streams exceed the peer's limit. */
final class Http2Pool {
  /** The ALPN protocols its connections offer instead of the cluster's (istio.alpn), or null. */
  private final java.util.@Nullable List<String> alpn;
  private final Cluster cluster;
  private final UpstreamHost host;
  private final List<Http2Connection> connections = new ArrayList<>(2);
  private final Bootstrap bootstrap;
  /** The pipeline is built once connected; the bootstrap needs a handler, shareable by every connection. */
  private static final ChannelInitializer<Channel> NO_HANDLER_YET = new ChannelInitializer<>() {
    @Override
    protected void initChannel(Channel ch) {}
  };

  Http2Pool(Cluster cluster, UpstreamHost host, EventLoop loop, java.util.@Nullable List<String> alpn) {
    this.alpn = alpn;
    this.cluster = cluster;
    this.host = host;
    ClusterConfig c = cluster.config();
    this.bootstrap = cluster.withSocketOptions(new Bootstrap()).group(loop)
        .channel(cluster.transport().socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, c.connectTimeoutMs()))
        .handler(NO_HANDLER_YET);
  }

  ClusterStats stats() {
    return cluster.stats();
  }

  UpstreamHost host() {
    return host;
  }

  /** {@code max_headers_count}: fields a response or its trailers may have. */
  int maxResponseHeadersCount() {
    return cluster.config().maxResponseHeadersCount();
  }

  void acquire(UpstreamListener listener) {
    for (int i = 0; i < connections.size(); i++) {
      Http2Connection c = connections.get(i);
      if (c.canTakeStream()) {
        c.newStream(listener);
        return;
      }
    }
    Http2Connection c = connect();
    if (c == null) {
      listener.onUpstreamFailure(UpstreamFailure.OVERFLOW, "max_connections reached");
      return;
    }
    c.newStream(listener);
  }

  void forget(Http2Connection c) {
    connections.remove(c);
  }

  void closeAll() {
    for (Http2Connection c : new ArrayList<>(connections)) {
      c.channel().close();
    }
  }

  private @Nullable Http2Connection connect() {
    ClusterStats stats = cluster.stats();
    if (!cluster.breaker().tryConnection()) {
      return null;
    }
    stats.cxTotal.inc();
    stats.cxHttp2Total.inc();
    ClusterConfig cfg = cluster.config();
    ChannelFuture f = cluster.connect(bootstrap, host.address());
    Channel ch = f.channel();
    Http2Settings settings = Http2Settings.defaultSettings()
        .initialWindowSize(cfg.http2().initialStreamWindowSize())
        .pushEnabled(false);
    Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().initialSettings(settings)
        .validateHeaders(false).build();
    Http2Connection conn = new Http2Connection(this, ch, codec);
    ch.closeFuture().addListener(closed -> cluster.breaker().connectionClosed());
    connections.add(conn);
    long start = System.nanoTime();
    f.addListener(done -> {
      if (!done.isSuccess()) {
        forget(conn);
        boolean timeout = done.cause() instanceof ConnectTimeoutException;
        (timeout ? stats.cxConnectTimeout : stats.cxConnectFail).inc();
        conn.failWaiting(timeout ? UpstreamFailure.CONNECT_TIMEOUT : UpstreamFailure.CONNECT_FAILURE,
            String.valueOf(done.cause().getMessage()));
        return;
      }
      stats.cxActive.inc();
      stats.cxConnectMs.recordNanos(System.nanoTime() - start);
      ChannelPipeline p = ch.pipeline();
      if (cluster.usesTls(host)) {
        io.netty.handler.ssl.SslHandler ssl = cluster.newSslHandler(ch.alloc(), host, alpn);
        if (ssl == null) {
          conn.failWaiting(UpstreamFailure.TLS_FAILURE, "the cluster's TLS secrets have not arrived");
          ch.close();
          return;
        }
        p.addLast(ssl);
        p.addLast(stats.meter(start));
        p.addLast(codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()), conn);
        p.addLast(new Http1Pool.TlsReadyHandler(conn::markReady, cause -> {
          stats.cxConnectFail.inc();
          conn.failWaiting(UpstreamFailure.TLS_FAILURE, cause);
          ch.close();
        }));
        return;
      }
      p.addLast(stats.meter(start));
      p.addLast(codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()), conn);
      conn.markReady();
    });
    return conn;
  }
}
