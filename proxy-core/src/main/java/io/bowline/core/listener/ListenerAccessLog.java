package io.bowline.core.listener;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.config.ListenerConfig;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * A listener's own {@code access_log}: as in Envoy, one entry per connection when it closes, flagged {@code NR} when
 * no filter chain matched it (Istio logs only those, with a {@code response_flag_filter}).
 */
final class ListenerAccessLog {
  private ListenerAccessLog() {}

  private static final AttributeKey<Boolean> NO_FILTER_CHAIN = AttributeKey.valueOf("bowline.noFilterChain");

  /** Logs the connection when it closes, if the listener has access logs. */
  static void watch(ListenerConfig l, Channel ch) {
    if (l.accessLogs().isEmpty()) {
      return;
    }
    long startNanos = System.nanoTime();
    long startMillis = System.currentTimeMillis();
    InetSocketAddress remote = (InetSocketAddress) ch.remoteAddress();
    InetSocketAddress local = (InetSocketAddress) ch.localAddress();
    ch.closeFuture().addListener(x -> {
      AccessLogFacts f = new AccessLogFacts();
      f.type = AccessLogFacts.Type.LISTENER_CONNECTION;
      f.startEpochMillis = startMillis;
      f.durationNanos = System.nanoTime() - startNanos;
      f.responseFlags = Boolean.TRUE.equals(ch.attr(NO_FILTER_CHAIN).get()) ? "NR" : "-";
      f.responseCodeDetails = f.responseFlags.equals("NR") ? "filter_chain_not_found" : null;
      f.downstreamRemote = remote;
      f.downstreamDirectRemote = remote;
      f.downstreamLocal = local;
      io.bowline.core.accesslog.AccessLogger.logAll(l.accessLogs(), f);
    });
  }

  /** No filter chain matched the connection: it is closed, and its entry says NR. */
  static void noFilterChain(Channel ch) {
    ch.attr(NO_FILTER_CHAIN).set(Boolean.TRUE);
  }
}
