package io.bowline.core.tcp;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.config.TcpProxyConfig;
import io.bowline.core.http.TunnelHandlers;
import io.bowline.core.listener.ConnectionTracker;
import io.bowline.core.upstream.Cluster;
import io.bowline.core.upstream.ClusterManager;
import io.bowline.core.upstream.UpstreamHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code envoy.filters.network.tcp_proxy}: connects to a host of the chosen cluster on the connection's own event
 * loop and relays bytes both ways. Bytes that arrive before the upstream connects are held (reading pauses meanwhile).
 */
public final class TcpProxyHandler extends ChannelInboundHandlerAdapter {
  private static final Logger logger = LoggerFactory.getLogger(TcpProxyHandler.class);

  private final TcpProxyConfig config;
  private final ClusterManager clusters;
  private final ConnectionTracker tracker;
  private final Class<? extends io.netty.channel.socket.SocketChannel> channelType;
  private final ArrayDeque<Object> early = new ArrayDeque<>();
  private Channel upstream;
  /** The upstream is connected and ready (its TLS and upstream filters in place): client bytes go straight on. */
  private boolean relaying;
  // what the connection's access log says about it
  private final long startNanos = System.nanoTime();
  private final long startMillis = System.currentTimeMillis();
  private long bytesReceived;
  private String responseFlags = "-";
  private @org.jspecify.annotations.Nullable Cluster cluster;
  private @org.jspecify.annotations.Nullable UpstreamHost host;
  private TunnelHandlers.@org.jspecify.annotations.Nullable Relay toDownstream;
  private boolean logged;
  private io.bowline.core.filter.ConnectionObserver[] observers = NO_OBSERVERS;
  private java.util.concurrent.@org.jspecify.annotations.Nullable ScheduledFuture<?> reporting;
  private static final io.bowline.core.filter.ConnectionObserver[] NO_OBSERVERS = {};
  private final long connectionId = io.bowline.core.http.HttpConnectionContext.nextConnectionId();

  public TcpProxyHandler(TcpProxyConfig config, ClusterManager clusters, ConnectionTracker tracker,
      Class<? extends io.netty.channel.socket.SocketChannel> channelType) {
    this.config = config;
    this.clusters = clusters;
    this.tracker = tracker;
    this.channelType = channelType;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    config.cxTotal().inc();
    Channel downstream = ctx.channel();
    if (!config.observers().isEmpty()) {
      observers = new io.bowline.core.filter.ConnectionObserver[config.observers().size()];
      for (int i = 0; i < observers.length; i++) {
        observers[i] = config.observers().get(i).create();
      }
    }
    tracker.register(downstream, closeIdle -> { }); // raw TCP has no in-band drain signal: it ends when either side does
    String name = config.pick(ThreadLocalRandom.current().nextInt(Math.max(1, config.totalWeight())));
    Cluster cluster = clusters.get(name);
    UpstreamHost host = cluster == null ? null : cluster.chooseHost();
    this.cluster = cluster;
    this.host = host;
    if (host == null) {
      config.noRoute().inc();
      responseFlags = cluster == null ? "NC" : "UH";
      logger.debug("[{}] tcp_proxy {}: no host in cluster {}", downstream.id(), config.statPrefix(), name);
      ctx.close();
      return;
    }
    downstream.config().setAutoRead(false);
    cluster.stats().cxTotal.inc();
    TunnelHandlers.Relay relay = new TunnelHandlers.Relay(downstream);
    toDownstream = relay;
    Bootstrap b = cluster.withSocketOptions(new Bootstrap()).group(downstream.eventLoop()).channel(channelType)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) cluster.config().connectTimeoutMs())
        .option(ChannelOption.AUTO_READ, false)
        .handler(new io.netty.channel.ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (cluster.usesTls(host) && !upstreamTls(ch, cluster, host, downstream)) {
              return;
            }
            ch.pipeline().addLast(relay);
          }
        });
    long connectStart = System.nanoTime();
    cluster.connect(b, host.address()).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        cluster.stats().cxConnectFail.inc();
        cluster.reportLocalFailure(host); // outlier detection counts a refused connection as Envoy does
        responseFlags = "UF";
        releaseEarly();
        downstream.close();
        return;
      }
      cluster.stats().cxActive.inc();
      upstream = f.channel();
      upstream.closeFuture().addListener(x -> cluster.stats().cxActive.dec());
      var relayContext = upstream.pipeline().context(relay);
      if (relayContext != null) { // null: closed already, its pipeline torn down
        upstream.pipeline().addBefore(relayContext.name(), null, cluster.stats().meter(connectStart));
      }
      if (!downstream.isActive()) {
        upstream.close();
        releaseEarly();
        return;
      }
      var upstreamFilters = cluster.config().upstreamFilters();
      io.netty.handler.ssl.SslHandler ssl = upstreamFilters.isEmpty() ? null
          : upstream.pipeline().get(io.netty.handler.ssl.SslHandler.class);
      if (ssl != null) { // upstream network filters see the negotiated ALPN, and write before the client's bytes
        ssl.handshakeFuture().addListener(h -> {
          if (h.isSuccess() && upstream.isActive()) {
            cluster.addUpstreamFilters(upstream, ssl);
            relay(ctx, downstream);
          }
        });
        return;
      }
      relay(ctx, downstream);
    });
    downstream.config().setAutoRead(true);
  }

  /** The upstream is ready: what the client sent meanwhile goes out, and bytes flow both ways. */
  private void relay(ChannelHandlerContext ctx, Channel downstream) {
    relaying = true;
    Object o;
    while ((o = early.poll()) != null) {
      upstream.write(o);
    }
    upstream.flush();
    if (config.idleTimeoutMs() > 0) {
      ctx.pipeline().addBefore(ctx.name(), null,
          new IdleStateHandler(0, 0, config.idleTimeoutMs(), TimeUnit.MILLISECONDS));
    }
    upstream.config().setAutoRead(true);
    downstream.config().setAutoRead(true);
    if (observers.length > 0) {
      AccessLogFacts opened = facts(downstream);
      for (var observer : observers) {
        observer.opened(opened);
      }
      long every = config.observers().get(0).reportingIntervalMs();
      if (every > 0) {
        reporting = downstream.eventLoop().scheduleAtFixedRate(() -> {
          AccessLogFacts now = facts(downstream);
          for (var observer : observers) {
            observer.progress(now);
          }
        }, every, every, TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * The cluster's TLS on the upstream connection (bytes written meanwhile wait for the handshake); false when the
   * cluster's secrets have not arrived, and the connection is given up. A failed handshake closes both sides, UF.
   */
  private boolean upstreamTls(Channel ch, Cluster cluster, UpstreamHost host, Channel downstream) {
    io.netty.handler.ssl.SslHandler ssl = cluster.newSslHandler(ch.alloc(), host, null);
    if (ssl == null) {
      logger.debug("[{}] tcp_proxy {}: the TLS secrets of cluster {} have not arrived", downstream.id(),
          config.statPrefix(), cluster.config().name());
      responseFlags = "UF";
      ch.close();
      downstream.close();
      return false;
    }
    ch.pipeline().addLast(ssl);
    ssl.handshakeFuture().addListener(h -> {
      if (!h.isSuccess()) {
        cluster.stats().cxConnectFail.inc();
        responseFlags = "UF";
        logger.debug("[{}] tcp_proxy {}: upstream TLS failed: {}", downstream.id(), config.statPrefix(),
            io.bowline.core.tls.HandshakeFailure.describe(h.cause()));
        downstream.close();
      }
    });
    return true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof io.netty.buffer.ByteBuf b) {
      bytesReceived += b.readableBytes();
    }
    if (!relaying) {
      early.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    upstream.write(msg, upstream.voidPromise());
    if (!upstream.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (relaying) {
      upstream.flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (upstream != null) {
      upstream.config().setAutoRead(ctx.channel().isWritable());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ctx.close();
      return;
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseEarly();
    accessLog(ctx.channel());
    if (upstream != null && upstream.isActive()) {
      upstream.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  /** Envoy logs a tcp_proxy connection once, when it ends; connection observers hear of the end then too. */
  private void accessLog(Channel downstream) {
    if (logged || config.accessLogs().isEmpty() && observers.length == 0) {
      return;
    }
    logged = true;
    if (reporting != null) {
      reporting.cancel(false);
    }
    AccessLogFacts f = facts(downstream);
    for (var o : observers) {
      o.closed(f);
    }
    io.bowline.core.accesslog.AccessLogger.logAll(config.accessLogs(), f);
  }

  /** What the connection has been so far. */
  private AccessLogFacts facts(Channel downstream) {
    AccessLogFacts f = new AccessLogFacts();
    f.type = AccessLogFacts.Type.TCP_CONNECTION_END;
    f.startEpochMillis = startMillis;
    f.durationNanos = System.nanoTime() - startNanos;
    f.bytesReceived = bytesReceived;
    f.bytesSent = toDownstream == null ? 0 : toDownstream.bytes();
    f.responseFlags = responseFlags;
    f.upstreamCluster = cluster == null ? null : cluster.config().name();
    f.upstreamHost = host == null ? null : host.address();
    f.upstreamLocal = upstream == null ? null : (java.net.InetSocketAddress) upstream.localAddress();
    f.upstreamTls = io.bowline.core.upstream.UpstreamTls.session(upstream);
    f.upstreamHostMetadata = host == null ? null : host.filterMetadata();
    f.downstreamRemote = (java.net.InetSocketAddress) downstream.remoteAddress();
    f.downstreamDirectRemote = f.downstreamRemote;
    f.downstreamLocal = (java.net.InetSocketAddress) downstream.localAddress();
    io.netty.handler.ssl.SslHandler ssl = downstream.pipeline().get(io.netty.handler.ssl.SslHandler.class);
    f.tls = ssl == null ? null : ssl.engine().getSession();
    f.downstreamPeerMetadata = downstream.attr(io.bowline.core.filter.ConnectionInfo.PEER_METADATA).get();
    f.upstreamPeerMetadata = upstream == null ? null
        : upstream.attr(io.bowline.core.filter.ConnectionInfo.PEER_METADATA).get();
    f.connectionId = connectionId;
    return f;
  }

  private void releaseEarly() {
    Object o;
    while ((o = early.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
  }
}
