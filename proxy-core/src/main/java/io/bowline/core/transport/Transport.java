package io.bowline.core.transport;

import io.bowline.core.config.SocketInterfaceConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import jdk.net.ExtendedSocketOptions;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket transport: native epoll where the platform has it, NIO otherwise; io_uring when the bootstrap asks for
 * it as Envoy's does (its default socket interface's {@code io_uring_options}) and the kernel allows it.
 */
public final class Transport {
  /** The socket layers Netty offers on Linux. */
  private enum Kind {
    EPOLL("epoll"),
    IO_URING("io_uring"),
    NIO("nio");

    private final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);

  private final Kind kind;
  /** io_uring's submission queue entries (0: Netty's default). */
  private final int ringSize;

  private Transport(Kind kind, int ringSize) {
    this.kind = kind;
    this.ringSize = ringSize;
  }

  /**
   * The transport the bootstrap asks for ({@code socketInterface}: io_uring, or epoll as Envoy's default), unless
   * {@code -Dbowline.transport} names one (epoll, io_uring or nio; {@code -Dbowline.nio=true} still means nio). One
   * the platform lacks falls back to epoll and then NIO, io_uring with a log line saying why (a container's seccomp
   * profile commonly refuses it).
   */
  public static Transport of(SocketInterfaceConfig socketInterface) {
    String asked = System.getProperty("bowline.transport");
    Kind kind;
    if (asked != null) {
      kind = switch (asked) {
        case "io_uring" -> Kind.IO_URING;
        case "nio" -> Kind.NIO;
        case "epoll" -> Kind.EPOLL;
        default -> {
          LOG.warn("-Dbowline.transport={} is none of epoll, io_uring, nio; using epoll where available", asked);
          yield Kind.EPOLL;
        }
      };
    } else if (Boolean.getBoolean("bowline.nio")) {
      kind = Kind.NIO;
    } else {
      kind = socketInterface.ioUring() ? Kind.IO_URING : Kind.EPOLL;
    }
    if (kind == Kind.IO_URING && !IoUring.isAvailable()) {
      LOG.warn("io_uring is not available here ({}); using epoll where available",
          String.valueOf(IoUring.unavailabilityCause()));
      kind = Kind.EPOLL;
    }
    if (kind == Kind.EPOLL && !Epoll.isAvailable()) {
      kind = Kind.NIO;
    }
    return new Transport(kind, socketInterface.ringSize());
  }

  public String name() {
    return kind.label;
  }

  public EventLoopGroup newGroup(int threads, String name) {
    return newGroup(threads, name, null);
  }

  /** A group whose loops keep Envoy's dispatcher stats in {@code stats} (null: none, the default). */
  public EventLoopGroup newGroup(int threads, String name, io.bowline.core.stats.@Nullable Stats dispatcherStats) {
    IoHandlerFactory io = switch (kind) {
      case EPOLL -> EpollIoHandler.newFactory();
      case IO_URING -> ringSize > 0
          ? IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setRingSize(powerOfTwoAtLeast(ringSize)))
          : IoUringIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
    if (dispatcherStats != null) {
      io = new DispatcherStats(io, dispatcherStats);
    }
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), io);
  }

  public Class<? extends ServerChannel> serverChannel() {
    return switch (kind) {
      case EPOLL -> EpollServerSocketChannel.class;
      case IO_URING -> IoUringServerSocketChannel.class;
      case NIO -> NioServerSocketChannel.class;
    };
  }

  public Class<? extends SocketChannel> socketChannel() {
    return switch (kind) {
      case EPOLL -> EpollSocketChannel.class;
      case IO_URING -> IoUringSocketChannel.class;
      case NIO -> NioSocketChannel.class;
    };
  }

  /**
   * TCP keep-alive on an outgoing connection: SO_KEEPALIVE, and the probe count, idle time and interval (seconds)
   * where they are above 0 (0 leaves the system's default, as Envoy does for an unset field).
   */
  public void keepalive(Bootstrap b, int probes, int idleS, int intervalS) {
    b.option(ChannelOption.SO_KEEPALIVE, true);
    switch (kind) {
      case EPOLL -> {
        setIfPositive(b, EpollChannelOption.TCP_KEEPCNT, probes);
        setIfPositive(b, EpollChannelOption.TCP_KEEPIDLE, idleS);
        setIfPositive(b, EpollChannelOption.TCP_KEEPINTVL, intervalS);
      }
      case IO_URING -> {
        setIfPositive(b, IoUringChannelOption.TCP_KEEPCNT, probes);
        setIfPositive(b, IoUringChannelOption.TCP_KEEPIDLE, idleS);
        setIfPositive(b, IoUringChannelOption.TCP_KEEPINTVL, intervalS);
      }
      case NIO -> {
        setIfPositive(b, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), probes);
        setIfPositive(b, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleS);
        setIfPositive(b, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), intervalS);
      }
    }
  }

  /**
   * Where an outgoing connection's reads go: the event loop's reused buffer ({@link LoopReadBuffer}) on epoll and
   * NIO; io_uring keeps its own.
   */
  public Bootstrap readBuffers(Bootstrap b) {
    return kind == Kind.IO_URING ? b : b.option(ChannelOption.RCVBUF_ALLOCATOR, new LoopReadBuffer());
  }

  /** Where an accepted connection's reads go, as {@link #readBuffers(Bootstrap)}. */
  public ServerBootstrap readBuffers(ServerBootstrap b) {
    return kind == Kind.IO_URING ? b : b.childOption(ChannelOption.RCVBUF_ALLOCATOR, new LoopReadBuffer());
  }

  /** io_uring rounds its ring up to a power of two; Netty asks for one. */
  private static int powerOfTwoAtLeast(int n) {
    int p = Integer.highestOneBit(n);
    return p == n ? n : p << 1;
  }

  private static void setIfPositive(Bootstrap b, ChannelOption<Integer> option, int value) {
    if (value > 0) {
      b.option(option, value);
    }
  }
}
