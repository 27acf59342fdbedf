package io.bowline.filters.extauthz;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
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
          .setAddress(a.getAddress().getHostAddress()).setPortValue(a.getPort())));
    }
    return p.build();
  }

  /**
   * Envoy's principal of one side of a TLS session: the certificate's first URI SAN, else its first DNS SAN, else its
   * subject; empty without TLS or a (verified) certificate.
   */
  static String principal(@Nullable SSLSession tls, boolean peer) {
    if (tls == null) {
      return "";
    }
    try {
      Certificate[] chain = peer ? tls.getPeerCertificates() : tls.getLocalCertificates();
      if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate x)) {
        return "";
      }
      String dns = null;
      if (x.getSubjectAlternativeNames() != null) {
        for (List<?> san : x.getSubjectAlternativeNames()) {
          if (Integer.valueOf(6).equals(san.get(0))) {
            return String.valueOf(san.get(1));
          }
          if (dns == null && Integer.valueOf(2).equals(san.get(0))) {
            dns = String.valueOf(san.get(1));
          }
        }
      }
      return dns != null ? dns : x.getSubjectX500Principal().getName();
    } catch (Exception e) {
      return ""; // no verified peer certificate
    }
  }

  /** The peer's certificate, URL-encoded PEM (include_peer_certificate), or empty. */
  static String certificate(@Nullable SSLSession tls) {
    if (tls == null) {
      return "";
    }
    try {
      Certificate[] chain = tls.getPeerCertificates();
      if (chain.length == 0) {
        return "";
      }
      String pem = "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
          .encodeToString(chain[0].getEncoded()) + "\n-----END CERTIFICATE-----\n";
      return java.net.URLEncoder.encode(pem, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    } catch (Exception e) {
      return "";
    }
  }
}
