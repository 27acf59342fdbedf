package io.bowline.core.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A real HTTP/1.1 and h2c (prior knowledge) backend for tests, scripted by path:
 * {@code /echo} answers the request's method, path and headers as {@code x-echo-*} headers and its body as the body;
 * {@code /status/N}; {@code /delay/MS}; {@code /size/N} (N bytes, streamed in 64 KiB chunks); {@code /reset} closes
 * the connection without answering; {@code /ws} upgrades to a WebSocket echo. Anything else is 200 "ok".
 * It records every request it receives, so a test can check that a rejected request never arrived.
 */
public final class TestBackend implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  public final AtomicInteger connections = new AtomicInteger();
  public final CopyOnWriteArrayList<FullHttpRequestInfo> received = new CopyOnWriteArrayList<>();
  /** Body bytes written for {@code /size/N} responses, counted as the writes complete. */
  public final java.util.concurrent.atomic.AtomicLong streamed = new java.util.concurrent.atomic.AtomicLong();

  /** What the backend saw of one request. */
  public record FullHttpRequestInfo(String method, String uri, Map<String, String> headers, int bodyBytes,
      String protocol) {}

  private TestBackend(@Nullable SslContext tls) {
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.incrementAndGet();
            if (tls != null) {
              ch.pipeline().addLast(tls.newHandler(ch.alloc()));
            }
            HttpServerCodec codec = new HttpServerCodec();
            HttpServerUpgradeHandler noUpgrade = new HttpServerUpgradeHandler(codec, p -> null);
            ch.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(codec, noUpgrade,
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel c) {
                    c.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                        new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                          @Override
                          protected void initChannel(Http2StreamChannel s) {
                            s.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                new HttpObjectAggregator(64 * 1024 * 1024), new Handler("HTTP/2"));
                          }
                        }));
                  }
                }));
            ch.pipeline().addLast(new H1Dispatch());
          }
        }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  public static TestBackend start() {
    return new TestBackend(null);
  }

  public static TestBackend startTls(SslContext tls) {
    return new TestBackend(tls);
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public int requestsTo(String pathPrefix) {
    return (int) received.stream().filter(r -> r.uri().startsWith(pathPrefix)).count();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /**
   * HTTP/1.1: /upload counts a streamed body without keeping it, /ws becomes a WebSocket echo, and everything else
   * is aggregated and answered by {@link Handler}.
   */
  private final class H1Dispatch extends ChannelInboundHandlerAdapter {
    private long uploadBytes = -1;
    private HttpRequest current;
    private io.netty.buffer.CompositeByteBuf body;
    private final Handler handler = new Handler("HTTP/1.1");

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      if (body != null) {
        body.release();
        body = null;
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest req) {
        current = req;
        if (body != null) {
          body.release();
          body = null;
        }
        if (req.uri().startsWith("/upload")) {
          uploadBytes = 0;
        } else {
          body = ctx.alloc().compositeBuffer(1024);
        }
      }
      if (!(msg instanceof HttpContent c)) {
        if (!(msg instanceof HttpRequest)) {
          ctx.fireChannelRead(msg); // WebSocket frames after the handshake
        }
        return;
      }
      if (uploadBytes >= 0) {
        uploadBytes += c.content().readableBytes();
        c.release();
        if (c instanceof LastHttpContent) {
          record(current, (int) Math.min(Integer.MAX_VALUE, uploadBytes), "HTTP/1.1");
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
              Unpooled.copiedBuffer(Long.toString(uploadBytes), StandardCharsets.US_ASCII));
          HttpUtil.setContentLength(r, r.content().readableBytes());
          ctx.writeAndFlush(r);
          uploadBytes = -1;
        }
        return;
      }
      body.addComponent(true, c.content());
      if (c instanceof LastHttpContent last) {
        io.netty.handler.codec.http.DefaultFullHttpRequest full = new io.netty.handler.codec.http.DefaultFullHttpRequest(
            current.protocolVersion(), current.method(), current.uri(), body, current.headers(),
            last.trailingHeaders());
        body = null;
        if (current.uri().startsWith("/ws")) {
          record(full, 0, "HTTP/1.1");
          var hs = new io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory(
              "ws://localhost/ws", null, false).newHandshaker(full);
          ctx.pipeline().addLast(new WsEcho());
          hs.handshake(ctx.channel(), full).addListener(f -> full.release());
          return;
        }
        try {
          handler.channelRead0(ctx, full);
        } finally {
          full.release();
        }
      }
    }
  }

  private void record(HttpRequest req, int bodyBytes, String protocol) {
    Map<String, String> headers = new ConcurrentHashMap<>();
    req.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(), e.getValue(), (a, b) -> a + "," + b));
    received.add(new FullHttpRequestInfo(req.method().name(), req.uri(), headers, bodyBytes, protocol));
  }

  private final class Handler extends io.netty.channel.SimpleChannelInboundHandler<FullHttpRequest> {
    private final String protocol;

    Handler(String protocol) {
      this.protocol = protocol;
    }

    @Override
    public void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      record(req, req.content().readableBytes(), protocol);
      String path = req.uri();
      if (path.startsWith("/reset")) {
        ctx.channel().close();
        return;
      }
      if (path.startsWith("/delay/")) {
        long ms = Long.parseLong(path.substring(7).split("[/?]")[0]);
        FullHttpResponse r = ok("delayed");
        ctx.executor().schedule(() -> ctx.writeAndFlush(r), ms, TimeUnit.MILLISECONDS);
        return;
      }
      if (path.startsWith("/status/")) {
        int code = Integer.parseInt(path.substring(8).split("[/?]")[0]);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
            Unpooled.copiedBuffer("status " + code, StandardCharsets.US_ASCII));
        HttpUtil.setContentLength(r, r.content().readableBytes());
        ctx.writeAndFlush(r);
        return;
      }
      if (path.startsWith("/size/")) {
        long n = Long.parseLong(path.substring(6).split("[/?]")[0]);
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpUtil.setContentLength(r, n);
        ctx.write(r);
        streamBytes(ctx, n);
        return;
      }
      if (path.startsWith("/echo")) {
        ByteBuf body = req.content().retainedDuplicate();
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        r.headers().set("x-echo-method", req.method().name());
        r.headers().set("x-echo-uri", req.uri());
        r.headers().set("x-echo-protocol", protocol);
        req.headers().forEach(e -> r.headers().add("x-echo-h-" + e.getKey().toLowerCase(), e.getValue()));
        req.trailingHeaders().forEach(e -> r.headers().add("x-echo-t-" + e.getKey().toLowerCase(), e.getValue()));
        HttpUtil.setContentLength(r, body.readableBytes());
        ctx.writeAndFlush(r);
        return;
      }
      ctx.writeAndFlush(ok("ok"));
    }

    private void streamBytes(ChannelHandlerContext ctx, long remaining) {
      if (remaining <= 0) {
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        return;
      }
      int n = (int) Math.min(64 * 1024, remaining);
      ByteBuf chunk = ctx.alloc().buffer(n).writeZero(n);
      ctx.writeAndFlush(new DefaultHttpContent(chunk)).addListener((ChannelFutureListener) f -> {
        if (f.isSuccess()) {
          streamed.addAndGet(n);
          if (ctx.channel().isWritable()) {
            streamBytes(ctx, remaining - n);
          } else {
            ctx.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelWritabilityChanged(ChannelHandlerContext c) {
                if (c.channel().isWritable()) {
                  c.pipeline().remove(this);
                  streamBytes(ctx, remaining - n);
                }
              }
            });
          }
        }
      });
    }

    private FullHttpResponse ok(String body) {
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
          Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII));
      HttpUtil.setContentLength(r, r.content().readableBytes());
      return r;
    }
  }

  /** Echoes WebSocket text frames. */
  static final class WsEcho extends io.netty.channel.SimpleChannelInboundHandler<TextWebSocketFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame f) {
      ctx.writeAndFlush(new TextWebSocketFrame("echo: " + f.text()));
    }
  }

}
