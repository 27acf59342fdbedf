package io.bowline.filters.extauthz;

import io.bowline.core.tls.Certificates;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/** The two ends of a connection as a check request names them: address and principal. */
final class Peers {
  private Peers() {}

  static AttributeContext.Peer peer(@Nullable InetSocketAddress a, String principal) {
    AttributeContext.Peer.Builder p = AttributeContext.Peer.newBuilder().setPrincipal(principal);
    if (a != null) {
      p.setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
          .setAddress(io.bowline.core.transport.AddressText.ip(a)).setPortValue(a.getPort())));
    }
    return p.build();
  }

  /**
   * Envoy's principal of one side of a TLS session: the certificate's first URI SAN, else its first DNS SAN, else its
   * subject; empty without TLS or a (verified) certificate.
   */
  static String principal(@Nullable SSLSession tls, boolean peer) {
    X509Certificate x = peer ? Certificates.peer(tls) : Certificates.local(tls);
    if (x == null) {
      return ""; // no verified peer certificate
    }
    String id = Certificates.firstSan(x, Certificates.URI);
    if (id == null) {
      id = Certificates.firstSan(x, Certificates.DNS);
    }
    return id != null ? id : x.getSubjectX500Principal().getName();
  }

  /** The peer's certificate, URL-encoded PEM (include_peer_certificate), or empty. */
  static String certificate(@Nullable SSLSession tls) {
    X509Certificate x = Certificates.peer(tls);
    return x == null ? "" : Certificates.urlEncodedPem(List.of(x));
  }
}
