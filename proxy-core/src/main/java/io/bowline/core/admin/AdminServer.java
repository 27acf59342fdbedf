package io.bowline.core.admin;

import io.bowline.core.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.time.Instant;

/** The admin HTTP server, on its own single thread so that it answers even when the workers are busy. */
public final class AdminServer {
  private final EventLoopGroup group;
  private final Channel channel;

  private AdminServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  public static AdminServer start(InetSocketAddress address, AdminContext context, Transport transport)
      throws java.io.IOException {
    EventLoopGroup group = transport.newGroup(1, "bowline-admin");
    Instant loaded = Instant.now();
    try {
      Channel ch = new ServerBootstrap().group(group).channel(transport.serverChannel())
          .option(ChannelOption.SO_REUSEADDR, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel c) {
              c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024),
                  new io.netty.handler.stream.ChunkedWriteHandler(), new AdminHandler(context, loaded));
            }
          }).bind(address).syncUninterruptibly().channel();
      return new AdminServer(group, ch);
    } catch (Exception e) {
      group.shutdownGracefully();
      throw new java.io.IOException("admin: cannot bind " + address + ": " + e.getMessage(), e);
    }
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  public void stop() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
  }
}
