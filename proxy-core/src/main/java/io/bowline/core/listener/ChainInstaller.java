package io.bowline.core.listener;

import io.bowline.core.config.FilterChainConfig;
import io.bowline.core.config.HcmConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.config.TcpProxyConfig;
import io.bowline.core.http.HttpCodecInstaller;
import io.bowline.core.http.HttpConnectionContext;
import io.bowline.core.tcp.TcpProxyHandler;
import io.bowline.core.transport.Transport;
import io.bowline.core.upstream.ClusterManager;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Puts a selected filter chain on a connection: TLS termination if the chain has it, then its network filter. */
public final class ChainInstaller {
  /** The SNI the listener's tls_inspector read from the ClientHello (also for chains that do not terminate TLS). */
  static final io.netty.util.AttributeKey<String> INSPECTED_SNI = io.netty.util.AttributeKey.valueOf("bowline.sni");
  /** What network filters put in the connection's filter state, for its HTTP streams. */
  static final io.netty.util.AttributeKey<java.util.Map<String, String>> CONNECTION_FILTER_STATE =
      io.netty.util.AttributeKey.valueOf("bowline.filterState");

  private static final Logger logger = LoggerFactory.getLogger(ChainInstaller.class);

  private final ClusterManager clusters;
  private final Transport transport;
  private final long drainTimeoutMs;

  public ChainInstaller(ClusterManager clusters, Transport transport, long drainTimeoutMs) {
    this.clusters = clusters;
    this.transport = transport;
    this.drainTimeoutMs = drainTimeoutMs;
  }

  /** Installs {@code chain}; the connection is tracked (and drained) with the listener generation's others. */
  public void install(Channel ch, ListenerConfig listener, FilterChainConfig chain, ConnectionTracker tracker) {
    ChannelPipeline p = ch.pipeline();
    // counts the plain bytes of everything after it: gates, codecs, tunnels (the handshake's are TLS's own)
    var meter = chain.terminal().connectionBytes().meter(System.nanoTime());
    if (chain.tls() != null) {
      io.netty.handler.ssl.SslContext context = chain.tls().current();
      if (context == null) {
        logger.debug("[{}] TLS secrets for filter chain {} have not arrived: closing", ch.id(), chain.name());
        ch.close();
        return;
      }
      SslHandler ssl = context.newHandler(ch.alloc());
      ssl.setHandshakeTimeoutMillis(10_000);
      if (listener.stats().ssl() != null) {
        listener.stats().ssl().watch(ssl, true);
      }
      p.addLast(ssl);
      p.addLast(meter);
      p.addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
          installTerminal(ctx.channel(), chain, true, protocol, tracker);
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
          logger.debug("[{}] TLS handshake failed: {}", ctx.channel().id(), io.bowline.core.tls.HandshakeFailure.describe(cause));
          ctx.close();
        }
      });
      return;
    }
    p.addLast(meter);
    installTerminal(ch, chain, false, null, tracker);
  }

  private void installTerminal(Channel ch, FilterChainConfig chain, boolean tls, String alpn,
      ConnectionTracker tracker) {
    if (!chain.gates().isEmpty()) {
      SslHandler sslHandler = tls ? ch.pipeline().get(SslHandler.class) : null;
      var info = new io.bowline.core.filter.ConnectionInfo((InetSocketAddress) ch.remoteAddress(),
          (InetSocketAddress) ch.localAddress(), sslHandler == null ? null : sslHandler.engine().getSession(),
          sslHandler != null ? HttpConnectionContext.serverNameOf(sslHandler.engine().getSession())
              : ch.attr(INSPECTED_SNI).get(), new java.util.HashMap<>(4));
      new GateRun(ch, chain, info, tls, alpn, tracker).next();
      return;
    }
    installAfterGates(ch, chain, tls, alpn, tracker);
  }

  /**
   * The chain's gates in order; a gate that answers later holds the connection: no more reads, and what was read
   * (bytes after the TLS handshake) waits in a {@link HeldInbound} until the terminal filter is in place.
   */
  private final class GateRun {
    private final Channel ch;
    private final FilterChainConfig chain;
    private final io.bowline.core.filter.ConnectionInfo info;
    private final boolean tls;
    private final String alpn;
    private final ConnectionTracker tracker;
    private int index;
    private @org.jspecify.annotations.Nullable HeldInbound held;

    GateRun(Channel ch, FilterChainConfig chain, io.bowline.core.filter.ConnectionInfo info, boolean tls, String alpn,
        ConnectionTracker tracker) {
      this.ch = ch;
      this.chain = chain;
      this.info = info;
      this.tls = tls;
      this.alpn = alpn;
      this.tracker = tracker;
    }

    void next() {
      while (index < chain.gates().size()) {
        var gate = chain.gates().get(index++);
        boolean[] answered = {false, false}; // answered, and how
        gate.decide(info, ch.eventLoop(), ok -> {
          if (!answered[0]) { // at once: the loop below goes on
            answered[0] = true;
            answered[1] = ok;
          } else {
            decided(ok); // later, on the event loop
          }
        });
        if (!answered[0]) {
          answered[0] = true; // the answer will come later
          hold();
          return;
        }
        if (!answered[1]) {
          refuse();
          return;
        }
      }
      finish();
    }

    private void decided(boolean ok) {
      if (!ch.isActive()) {
        return;
      }
      if (ok) {
        next();
      } else {
        refuse();
      }
    }

    private void hold() {
      if (held == null) {
        held = new HeldInbound();
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(held);
      }
    }

    private void refuse() {
      logger.debug("[{}] connection refused by a network filter of chain {}", ch.id(), chain.name());
      ch.close();
    }

    private void finish() {
      if (!info.filterState().isEmpty()) {
        ch.attr(CONNECTION_FILTER_STATE).set(java.util.Map.copyOf(info.filterState()));
      }
      for (var gate : chain.gates()) {
        io.netty.channel.ChannelHandler h = gate.handler(info, alpn);
        if (h != null) {
          ch.pipeline().addLast(h);
        }
      }
      installAfterGates(ch, chain, tls, alpn, tracker);
      if (held != null) {
        held.release(ch);
        ch.config().setAutoRead(true);
      }
    }
  }

  private void installAfterGates(Channel ch, FilterChainConfig chain, boolean tls, String alpn,
      ConnectionTracker tracker) {
    if (chain.terminal() instanceof HcmConfig hcm) {
      SslHandler ssl = tls ? ch.pipeline().get(SslHandler.class) : null;
      var state = ch.attr(CONNECTION_FILTER_STATE).get();
      HttpConnectionContext ctx = HttpConnectionContext.of(hcm, clusters, (InetSocketAddress) ch.remoteAddress(),
          (InetSocketAddress) ch.localAddress(), ssl == null ? null : ssl.engine().getSession(),
          state == null ? java.util.Map.of() : state);
      // first, under TLS: by the time a close reaches it, TLS has said close_notify
      ch.pipeline().addFirst(new io.bowline.core.transport.LingeringClose(hcm.delayedCloseTimeoutMs()));
      HttpCodecInstaller.install(ch.pipeline(), ctx, tracker, drainTimeoutMs, alpn);
    } else if (chain.terminal() instanceof TcpProxyConfig tcp) {
      ch.pipeline().addLast(new TcpProxyHandler(tcp, clusters, tracker, transport.socketChannel()));
    }
  }
}
