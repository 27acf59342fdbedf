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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the configured listeners and hands each accepted connection to its filter chain. An update that changes a
 * listener keeps its socket when the address is the same: new connections get the new configuration at once, and
 * the connections accepted under the old one drain (HTTP/1.1 "Connection: close" after the current response,
 * HTTP/2 GOAWAY) and are closed when the drain time ends. A removed listener stops accepting and drains the same way.
 */
public final class ListenerManager {
  private static final Logger logger = LoggerFactory.getLogger(ListenerManager.class);

  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup workerGroup;
  private final Transport transport;
  private final ChainInstaller installer;
  private final ConnectionTracker tracker;
  private final long drainTimeMs;
  private final Map<String, Bound> bound = new LinkedHashMap<>();

  /** One listener configuration and the connections accepted under it. */
  private record Generation(ListenerConfig config, ConnectionTracker connections) {}

  /** A bound socket; its generation is replaced whole when the listener's configuration changes. */
  public static final class Bound {
    private final Channel channel;
    private volatile Generation generation;

    Bound(Channel channel, Generation generation) {
      this.channel = channel;
      this.generation = generation;
    }

    public ListenerConfig config() {
      return generation.config();
    }

    public Channel channel() {
      return channel;
    }

    public InetSocketAddress localAddress() {
      return (InetSocketAddress) channel.localAddress();
    }
  }

  public ListenerManager(EventLoopGroup acceptGroup, EventLoopGroup workerGroup, Transport transport,
      ChainInstaller installer, ConnectionTracker tracker, long drainTimeMs) {
    this.acceptGroup = acceptGroup;
    this.workerGroup = workerGroup;
    this.transport = transport;
    this.installer = installer;
    this.tracker = tracker;
    this.drainTimeMs = drainTimeMs;
  }

  /** Binds every listener; a listener that cannot bind fails startup with its name and address. */
  public synchronized void start(List<ListenerConfig> listeners) throws java.io.IOException {
    for (ListenerConfig l : listeners) {
      bind(l);
    }
  }

  /**
   * Adds or replaces {@code changed} listeners and removes {@code removed} ones. A listener that cannot bind is
   * left out and reported in the returned list (the others are applied), as Envoy does with a bind failure.
   */
  public synchronized List<String> update(List<ListenerConfig> changed, java.util.Set<String> removed) {
    List<String> failures = new ArrayList<>();
    for (String name : removed) {
      Bound b = bound.remove(name);
      if (b != null) {
        logger.info("listener {} removed: stops accepting, {} connection(s) drain", name,
            b.generation.connections().openConnections());
        b.channel.close();
        drain(b.generation);
      }
    }
    for (ListenerConfig l : changed) {
      Bound b = bound.get(l.name());
      if (b != null && sameAddress(b, l)) {
        Generation old = b.generation;
        b.generation = new Generation(l, tracker.child());
        logger.info("listener {} updated: new connections get the new configuration, {} old one(s) drain",
            l.name(), old.connections().openConnections());
        drain(old);
        continue;
      }
      if (b != null) {
        bound.remove(l.name());
        b.channel.close();
        drain(b.generation);
      }
      try {
        bind(l);
      } catch (java.io.IOException e) {
        failures.add(e.getMessage());
      }
    }
    return failures;
  }

  private static boolean sameAddress(Bound b, ListenerConfig l) {
    InetSocketAddress was = b.config().address();
    InetSocketAddress now = l.address();
    return was.equals(now) || (now.getPort() == 0 && was.getAddress().equals(now.getAddress()));
  }

  private void drain(Generation g) {
    g.connections().drainAll(false);
    if (g.connections().openConnections() > 0) {
      workerGroup.next().schedule(() -> {
        if (g.connections().openConnections() > 0) {
          logger.info("listener {}: drain time over, closing {} connection(s)", g.config().name(),
              g.connections().openConnections());
          g.connections().closeAll();
        }
      }, drainTimeMs, TimeUnit.MILLISECONDS);
    }
  }

  private void bind(ListenerConfig l) throws java.io.IOException {
    int limit = l.perConnectionBufferLimitBytes();
    Bound[] self = new Bound[1];
    ServerBootstrap b = transport.readBuffers(new ServerBootstrap()).group(acceptGroup, workerGroup)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(limit / 2, limit))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            Generation g = self[0].generation;
            ListenerConfig l = g.config();
            l.stats().cxTotal().inc();
            l.stats().cxActive().inc();
            long opened = System.nanoTime();
            ch.closeFuture().addListener(f -> {
              l.stats().cxActive().dec();
              l.stats().cxDestroy().inc();
              l.stats().cxLengthMs().recordNanos(System.nanoTime() - opened);
            });
            ListenerAccessLog.watch(l, ch);
            if (l.tlsInspector() || l.httpInspector() || l.selector().needsInspection()) {
              ch.pipeline().addLast(new ListenerFilterHandler(l, installer, g.connections()));
              return;
            }
            FilterChainConfig chain = l.selector().select(new ConnectionFacts(ch.localAddress(), ch.remoteAddress(),
                null, "raw_buffer", List.of()));
            if (chain == null) {
              l.stats().noFilterChainMatch().inc();
              ListenerAccessLog.noFilterChain(ch);
              ch.close();
              return;
            }
            installer.install(ch, l, chain, g.connections());
          }
        });
    try {
      self[0] = new Bound(null, new Generation(l, tracker.child()));
      Channel ch = b.bind(l.address()).syncUninterruptibly().channel();
      Bound bd = new Bound(ch, self[0].generation);
      self[0] = bd;
      bound.put(l.name(), bd);
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
