package io.bowline.core.upstream;

import io.bowline.core.config.HealthCheckConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One host's health probe: HTTP/1.1 GET, TCP send/receive, or gRPC {@code grpc.health.v1.Health/Check}. Each check
 * runs on the checker's event loop (gRPC answers are handed back to it) and reports exactly once, within the timeout.
 */
abstract class HealthProbe {
  /** Where a check reports: its result and, for a failure, why. */
  interface Done {
    void done(HealthChecker.Result result, String detail);
  }

  final Cluster cluster;
  final UpstreamHost host;
  final EventLoop loop;
  final long timeoutMs;

  HealthProbe(Cluster cluster, UpstreamHost host, EventLoop loop, long timeoutMs) {
    this.cluster = cluster;
    this.host = host;
    this.loop = loop;
    this.timeoutMs = timeoutMs;
  }

  static HealthProbe of(HealthCheckConfig.Probe p, Cluster cluster, UpstreamHost host, EventLoop loop,
      long timeoutMs) {
    if (p instanceof HealthCheckConfig.Http h) {
      return new HttpProbe(h, cluster, host, loop, timeoutMs);
    }
    if (p instanceof HealthCheckConfig.Tcp t) {
      return new TcpProbe(t, cluster, host, loop, timeoutMs);
    }
    return new GrpcHealthProbe((HealthCheckConfig.Grpc) p, cluster, host, loop, timeoutMs);
  }

  /** Starts one check; {@code done} is called once, on the loop. */
  abstract void check(Done done);

  /** The host left the cluster or the checker stopped. */
  void close() {}

  /** True when each block occurs in {@code data} in order, not necessarily next to each other (Envoy's fuzzy match). */
  static boolean containsInOrder(byte[] data, int length, List<byte[]> blocks) {
    int from = 0;
    for (byte[] b : blocks) {
      int at = indexOf(data, length, b, from);
      if (at < 0) {
        return false;
      }
      from = at + b.length;
    }
    return true;
  }

  private static int indexOf(byte[] data, int length, byte[] b, int from) {
    outer:
    for (int i = from; i <= length - b.length; i++) {
      for (int j = 0; j < b.length; j++) {
        if (data[i + j] != b[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * A check over a fresh connection: connects (within the timeout), lets {@code start} write, feeds what arrives to
   * the probe's handler, and reports a network failure when the connection fails, closes early or times out.
   */
  abstract static class ConnectionProbe extends HealthProbe {
    ConnectionProbe(Cluster cluster, UpstreamHost host, EventLoop loop, long timeoutMs) {
      super(cluster, host, loop, timeoutMs);
    }

    /** The handlers of one check's connection; they call {@code finish} with the result. */
    abstract void initChannel(Channel ch, Attempt attempt);

    @Override
    void check(Done done) {
      Attempt attempt = new Attempt(done);
      Bootstrap b = cluster.withSocketOptions(new Bootstrap()).group(loop)
          .channel(cluster.transport().socketChannel())
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMs))
          .handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              ConnectionProbe.this.initChannel(ch, attempt);
            }
          });
      ChannelFuture f = cluster.connectQuietly(b, host.healthCheckAddress());
      attempt.channel = f.channel();
      attempt.timer = loop.schedule(() -> attempt.finish(HealthChecker.Result.NETWORK_FAILURE, "timed out after "
          + timeoutMs + " ms"), timeoutMs, TimeUnit.MILLISECONDS);
      f.addListener(c -> {
        if (!c.isSuccess()) {
          attempt.finish(HealthChecker.Result.NETWORK_FAILURE, "connect failed: " + c.cause().getMessage());
        }
      });
      f.channel().closeFuture().addListener(c -> attempt.finish(HealthChecker.Result.NETWORK_FAILURE,
          "connection closed before an answer"));
    }

    /** One check in flight: reports once, then closes its connection. */
    static final class Attempt {
      private final Done done;
      @Nullable Channel channel;
      @Nullable ScheduledFuture<?> timer;
      private boolean finished;

      Attempt(Done done) {
        this.done = done;
      }

      void finish(HealthChecker.Result r, String detail) {
        if (finished) {
          return;
        }
        finished = true;
        if (timer != null) {
          timer.cancel(false);
        }
        if (channel != null) {
          channel.close();
        }
        done.done(r, detail);
      }
    }
  }

  /** {@code http_health_check}: GET path over HTTP/1.1, healthy on an expected status (and body blocks). */
  static final class HttpProbe extends ConnectionProbe {
    private final HealthCheckConfig.Http http;

    HttpProbe(HealthCheckConfig.Http http, Cluster cluster, UpstreamHost host, EventLoop loop, long timeoutMs) {
      super(cluster, host, loop, timeoutMs);
      this.http = http;
    }

    @Override
    void initChannel(Channel ch, Attempt attempt) {
      ch.pipeline().addLast(new HttpClientCodec(), new ChannelInboundHandlerAdapter() {
        private int status;
        private boolean immediateFail;
        private boolean degraded;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
          FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, http.path(),
              Unpooled.EMPTY_BUFFER);
          String endpointHost = host.healthCheck().hostname();
          req.headers().set(HttpHeaderNames.HOST, !endpointHost.isEmpty() ? endpointHost
              : http.host() != null ? http.host() : cluster.config().name());
          req.headers().set(HttpHeaderNames.USER_AGENT, "Envoy/HC");
          req.headers().set(HttpHeaderNames.CONNECTION, "close");
          for (String[] h : http.headersToAdd()) {
            req.headers().add(h[0], h[1]);
          }
          for (String n : http.headersToRemove()) {
            req.headers().remove(n);
          }
          ctx.writeAndFlush(req);
          ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          try {
            if (msg instanceof HttpResponse r) {
              status = r.status().code();
              // Envoy's upstream "fail me now" signal, e.g. while it drains
              immediateFail = r.headers().contains("x-envoy-immediate-health-check-fail");
              degraded = r.headers().contains("x-envoy-degraded"); // up, but to be used only when needed

            }
            if (msg instanceof HttpContent c && body.size() < http.bufferBytes()) {
              ByteBuf content = c.content();
              int n = Math.min(content.readableBytes(), http.bufferBytes() - body.size());
              byte[] chunk = new byte[n];
              content.getBytes(content.readerIndex(), chunk);
              body.write(chunk, 0, n);
            }
            if (msg instanceof LastHttpContent) {
              verdict(attempt);
            }
          } finally {
            ReferenceCountUtil.release(msg);
          }
        }

        private void verdict(Attempt attempt) {
          if (immediateFail) {
            attempt.finish(HealthChecker.Result.FAILURE, "x-envoy-immediate-health-check-fail");
          } else if (!http.expected(status)) {
            attempt.finish(HealthChecker.Result.FAILURE, "status " + status);
          } else if (!http.receive().isEmpty() && !containsInOrder(body.toByteArray(), body.size(), http.receive())) {
            attempt.finish(HealthChecker.Result.FAILURE, "the body lacks the expected content");
          } else {
            attempt.finish(degraded ? HealthChecker.Result.DEGRADED : HealthChecker.Result.SUCCESS, "");
          }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          attempt.finish(HealthChecker.Result.NETWORK_FAILURE, String.valueOf(cause.getMessage()));
        }
      });
    }
  }

  /** {@code tcp_health_check}: connect, send, and find the receive blocks in what comes back. */
  static final class TcpProbe extends ConnectionProbe {
    private final HealthCheckConfig.Tcp tcp;

    TcpProbe(HealthCheckConfig.Tcp tcp, Cluster cluster, UpstreamHost host, EventLoop loop, long timeoutMs) {
      super(cluster, host, loop, timeoutMs);
      this.tcp = tcp;
    }

    @Override
    void initChannel(Channel ch, Attempt attempt) {
      ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        private final ByteArrayOutputStream got = new ByteArrayOutputStream();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
          if (tcp.send() != null) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(tcp.send()));
          }
          if (tcp.receive().isEmpty()) { // a connect-only check: the connection is the answer
            attempt.finish(HealthChecker.Result.SUCCESS, "");
          }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          try {
            ByteBuf b = (ByteBuf) msg;
            if (got.size() < 1 << 16) {
              byte[] chunk = new byte[b.readableBytes()];
              b.getBytes(b.readerIndex(), chunk);
              got.write(chunk, 0, chunk.length);
            }
          } finally {
            ReferenceCountUtil.release(msg);
          }
          byte[] data = got.toByteArray();
          if (containsInOrder(data, data.length, tcp.receive())) {
            attempt.finish(HealthChecker.Result.SUCCESS, "");
          }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          attempt.finish(HealthChecker.Result.NETWORK_FAILURE, String.valueOf(cause.getMessage()));
        }
      });
    }
  }
}
