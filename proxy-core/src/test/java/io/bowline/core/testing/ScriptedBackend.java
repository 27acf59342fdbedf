package io.bowline.core.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetSocketAddress;
import java.util.function.Function;

/** An HTTP/1.1 upstream on loopback whose every answer a test scripts: one function from request to response. */
public final class ScriptedBackend implements AutoCloseable {
  private final NioEventLoopGroup group;
  private final Channel server;

  private ScriptedBackend(NioEventLoopGroup group, Channel server) {
    this.group = group;
    this.server = server;
  }

  /** Starts on a free port; a response without a length gets its content's. */
  public static ScriptedBackend start(Function<FullHttpRequest, FullHttpResponse> script) throws InterruptedException {
    NioEventLoopGroup group = new NioEventLoopGroup(1);
    Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                    FullHttpResponse r = script.apply(req);
                    if (!HttpUtil.isContentLengthSet(r)) {
                      HttpUtil.setContentLength(r, r.content().readableBytes());
                    }
                    ctx.writeAndFlush(r);
                  }
                });
          }
        }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    return new ScriptedBackend(group, server);
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully().syncUninterruptibly();
  }
}
