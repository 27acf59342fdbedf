package io.bowline.core.listener;

import io.bowline.core.config.FilterChainConfig;
import io.bowline.core.config.ListenerConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The listener filters tls_inspector and http_inspector: peek at the first bytes (SNI and ALPN from a ClientHello,
 * or HTTP/1.x vs h2c preface), select the filter chain, install it, and replay the bytes into it. Gives up after
 * Envoy's listener_filters_timeout (15 s) and closes.
 */
final class ListenerFilterHandler extends ChannelInboundHandlerAdapter {
  private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_PEEK = 16 * 1024 + 512;

  private final ListenerConfig listener;
  private final ChainInstaller installer;
  private final ConnectionTracker tracker;
  private @Nullable CompositeByteBuf buffered;
  private @Nullable ScheduledFuture<?> timeout;

  ListenerFilterHandler(ListenerConfig listener, ChainInstaller installer, ConnectionTracker tracker) {
    this.listener = listener;
    this.installer = installer;
    this.tracker = tracker;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
    if (!(listener.tlsInspector() && !listener.tlsInspectorOff().test(port))
        && !(listener.httpInspector() && !listener.httpInspectorOff().test(port))) {
      ctx.fireChannelActive(); // every inspector is off on this port (filter_disabled): nothing to wait for
      select(ctx, new ConnectionFacts((InetSocketAddress) ctx.channel().localAddress(),
          (InetSocketAddress) ctx.channel().remoteAddress(), null, "raw_buffer", List.of()));
      return;
    }
    long ms = listener.listenerFiltersTimeoutMs();
    if (ms > 0) { // Envoy closes a connection whose listener filters cannot decide within the timeout ...
      timeout = ctx.executor().schedule(() -> {
        timeout = null;
        if (listener.continueOnListenerFiltersTimeout()) { // ... or matches a chain on what they found (nothing)
          select(ctx, new ConnectionFacts((InetSocketAddress) ctx.channel().localAddress(),
              (InetSocketAddress) ctx.channel().remoteAddress(), null, "raw_buffer", List.of()));
        } else {
          ctx.close();
        }
      }, ms, TimeUnit.MILLISECONDS);
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (buffered == null) {
      buffered = ctx.alloc().compositeBuffer();
    }
    buffered.addComponent(true, in);
    String transport = "raw_buffer";
    String sni = null;
    List<String> alpn = List.of();
    int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
    if (listener.tlsInspector() && !listener.tlsInspectorOff().test(port)) {
      ClientHello.Result r = ClientHello.parse(buffered);
      if (r.needMore() && buffered.readableBytes() < MAX_PEEK) {
        return;
      }
      if (r.tls()) {
        transport = "tls";
        sni = r.serverName();
        alpn = r.alpn();
      }
    }
    if (listener.httpInspector() && transport.equals("raw_buffer") && !listener.httpInspectorOff().test(port)) {
      int n = Math.min(buffered.readableBytes(), H2_PREFACE.length);
      boolean prefix = true;
      for (int i = 0; i < n && prefix; i++) {
        prefix = buffered.getByte(buffered.readerIndex() + i) == H2_PREFACE[i];
      }
      if (prefix && n < H2_PREFACE.length) {
        return; // could still be the h2 preface
      }
      alpn = prefix ? List.of("h2c") : looksLikeHttp1(buffered) ? List.of("http/1.1") : List.of();
    }
    select(ctx, new ConnectionFacts((InetSocketAddress) ctx.channel().localAddress(),
        (InetSocketAddress) ctx.channel().remoteAddress(), sni, transport, alpn));
  }

  private static boolean looksLikeHttp1(ByteBuf b) {
    int end = Math.min(b.readableBytes(), 8192);
    for (int i = 0; i < end - 1; i++) {
      if (b.getByte(b.readerIndex() + i) == '\r' && b.getByte(b.readerIndex() + i + 1) == '\n') {
        String line = b.toString(b.readerIndex(), i, StandardCharsets.US_ASCII);
        return line.endsWith(" HTTP/1.1") || line.endsWith(" HTTP/1.0");
      }
    }
    return false;
  }

  private void select(ChannelHandlerContext ctx, ConnectionFacts facts) {
    if (timeout != null) {
      timeout.cancel(false);
    }
    FilterChainConfig chain = listener.selector().select(facts);
    ByteBuf data = buffered != null ? buffered : io.netty.buffer.Unpooled.EMPTY_BUFFER; // none: a server-first protocol
    buffered = null;
    if (chain == null) {
      listener.stats().noFilterChainMatch().inc();
      ListenerAccessLog.noFilterChain(ctx.channel());
      data.release();
      ctx.close();
      return;
    }
    ctx.pipeline().remove(this);
    if (facts.serverName() != null) {
      ctx.channel().attr(ChainInstaller.INSPECTED_SNI).set(facts.serverName());
    }
    installer.install(ctx.channel(), listener, chain, tracker);
    if (data.isReadable()) {
      ctx.pipeline().fireChannelRead(data);
      ctx.pipeline().fireChannelReadComplete();
    } else {
      data.release();
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (buffered != null) {
      buffered.release();
      buffered = null;
    }
    if (timeout != null) {
      timeout.cancel(false);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
