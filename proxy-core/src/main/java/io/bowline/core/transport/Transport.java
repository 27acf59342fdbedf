package io.bowline.core.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/** The socket transport: native epoll where the platform has it, NIO otherwise. */
public final class Transport {
  private final boolean epoll;

  private Transport(boolean epoll) {
    this.epoll = epoll;
  }

  public static Transport best() {
    return new Transport(Epoll.isAvailable() && !Boolean.getBoolean("bowline.nio"));
  }

  public static Transport nio() {
    return new Transport(false);
  }

  public boolean isEpoll() {
    return epoll;
  }

  public String name() {
    return epoll ? "epoll" : "nio";
  }

  public EventLoopGroup newGroup(int threads, String name) {
    return newGroup(threads, name, null);
  }

  /** A group whose loops keep Envoy's dispatcher stats in {@code stats} (null: none, the default). */
  public EventLoopGroup newGroup(int threads, String name, io.bowline.core.stats.@org.jspecify.annotations.Nullable
      Stats dispatcherStats) {
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    if (dispatcherStats != null) {
      io = new DispatcherStats(io, dispatcherStats);
    }
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), io);
  }

  public Class<? extends ServerChannel> serverChannel() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public Class<? extends SocketChannel> socketChannel() {
    return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /**
   * TCP keep-alive on an outgoing connection: SO_KEEPALIVE, and the probe count, idle time and interval (seconds)
   * where they are above 0 (0 leaves the system's default, as Envoy does for an unset field).
   */
  public void keepalive(io.netty.bootstrap.Bootstrap b, int probes, int idleS, int intervalS) {
    b.option(io.netty.channel.ChannelOption.SO_KEEPALIVE, true);
    if (epoll) {
      if (probes > 0) {
        b.option(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPCNT, probes);
      }
      if (idleS > 0) {
        b.option(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPIDLE, idleS);
      }
      if (intervalS > 0) {
        b.option(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPINTVL, intervalS);
      }
      return;
    }
    if (probes > 0) {
      b.option(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT), probes);
    }
    if (idleS > 0) {
      b.option(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE), idleS);
    }
    if (intervalS > 0) {
      b.option(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL),
          intervalS);
    }
  }
}
