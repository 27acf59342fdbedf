package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.transport.AddressText;
import io.bowline.core.upstream.ClusterManager;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * What every stream of one downstream connection shares: its HCM config, its peers, the cluster manager, its TLS
 * session and SNI when it has them, and its connection id (Envoy's %CONNECTION_ID%). Its addresses are kept as
 * access logs print them too ({@code remoteText}, {@code localText}): formatted once for all its requests.
 */
public record HttpConnectionContext(
    HcmConfig hcm,
    ClusterManager clusters,
    InetSocketAddress remote,
    InetSocketAddress local,
    boolean tls,
    String remoteIp,
    String remoteText,
    String localText,
    @Nullable SSLSession tlsSession,
    @Nullable String serverName,
    long id,
    java.util.Map<String, String> filterState) {

  private static final AtomicLong IDS = new AtomicLong();

  public static HttpConnectionContext of(HcmConfig hcm, ClusterManager clusters, InetSocketAddress remote,
      InetSocketAddress local, @Nullable SSLSession tlsSession, java.util.Map<String, String> filterState) {
    String sni = serverNameOf(tlsSession);
    return new HttpConnectionContext(hcm, clusters, remote, local, tlsSession != null,
        AddressText.ip(remote), AddressText.of(remote), AddressText.of(local), tlsSession, sni,
        nextConnectionId(), filterState);
  }

  /** The SNI the client sent in its ClientHello, from the TLS session; null without one. */
  public static @Nullable String serverNameOf(@Nullable SSLSession tlsSession) {
    String sni = null;
    if (tlsSession instanceof javax.net.ssl.ExtendedSSLSession e) {
      for (var n : e.getRequestedServerNames()) {
        if (n instanceof javax.net.ssl.SNIHostName h) {
          sni = h.getAsciiName();
        }
      }
    }
    return sni;
  }

  /** A process-wide connection number, as Envoy gives each connection. */
  public static long nextConnectionId() {
    return IDS.incrementAndGet();
  }
}
