package io.bowline.core.upstream;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/** The TLS session of an upstream connection, for what names its two ends (Istio's principals, access logs). */
public final class UpstreamTls {
  private UpstreamTls() {}

  /** The session of {@code ch}'s TLS handler, or null: a plaintext connection, or one already closed. */
  public static @Nullable SSLSession session(@Nullable Channel ch) {
    SslHandler ssl = ch == null ? null : ch.pipeline().get(SslHandler.class);
    return ssl == null ? null : ssl.engine().getSession();
  }
}
