package io.bowline.core.listener;

import io.bowline.core.config.FilterChainConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Binds the configured listeners and hands each accepted connection to its filter chain. */
public final class ListenerManager {
  private static final Logger logger = LoggerFactory.getLogger(ListenerManager.class);

  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup workerGroup;
  private final Transport transport;
  private final ChainInstaller installer;
  private final Map<String, Bound> bound = new LinkedHashMap<>();

  /** A listener and the socket it is bound to. */
  public record Bound(ListenerConfig config, Channel channel) {
    public InetSocketAddress localAddress() {
      return (InetSocketAddress) channel.localAddress();
    }
  }

  public ListenerManager(EventLoopGroup acceptGroup, EventLoopGroup workerGroup, Transport transport,
      ChainInstaller installer) {
    this.acceptGroup = acceptGroup;
    this.workerGroup = workerGroup;
    this.transport = transport;
    this.installer = installer;
  }

  /** Binds every listener; a listener that cannot bind fails startup with its name and address. */
  public synchronized void start(List<ListenerConfig> listeners) throws java.io.IOException {
    for (ListenerConfig l : listeners) {
      bind(l);
    }
  }

  private void bind(ListenerConfig l) throws java.io.IOException {
    int limit = l.perConnectionBufferLimitBytes();
    ServerBootstrap b = new ServerBootstrap().group(acceptGroup, workerGroup).channel(transport.serverChannel())
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(limit / 2, limit))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            l.stats().cxTotal().inc();
            l.stats().cxActive().inc();
            ch.closeFuture().addListener(f -> {
              l.stats().cxActive().dec();
              l.stats().cxDestroy().inc();
            });
            if (l.tlsInspector() || l.httpInspector() || l.selector().needsInspection()) {
              ch.pipeline().addLast(new ListenerFilterHandler(l, installer));
              return;
            }
            FilterChainConfig chain = l.selector().select(new ConnectionFacts(ch.localAddress(), ch.remoteAddress(),
                null, "raw_buffer", List.of()));
            if (chain == null) {
              l.stats().noFilterChainMatch().inc();
              ch.close();
              return;
            }
            installer.install(ch, l, chain);
          }
        });
    try {
      Channel ch = b.bind(l.address()).syncUninterruptibly().channel();
      bound.put(l.name(), new Bound(l, ch));
      logger.info("listener {} bound to {}", l.name(), ch.localAddress());
    } catch (Exception e) {
      throw new java.io.IOException("listener " + l.name() + ": cannot bind " + l.address() + ": " + e.getMessage(), e);
    }
  }

  public synchronized List<Bound> bound() {
    return new ArrayList<>(bound.values());
  }

  /** Stops accepting on every listener; open connections are left to drain. */
  public synchronized void stopAccepting() {
    for (Bound b : bound.values()) {
      b.channel().close().syncUninterruptibly();
    }
  }
}
