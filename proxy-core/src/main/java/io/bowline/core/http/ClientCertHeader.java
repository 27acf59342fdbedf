package io.bowline.core.http;

import io.bowline.core.tls.Certificates;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * {@code x-forwarded-client-cert} as the HCM's {@code forward_client_cert_details} and
 * {@code set_current_client_cert_details} say: removed from requests that may not carry it (the default, SANITIZE,
 * so a client can never forge one), forwarded, appended to or replaced with this hop's element —
 * {@code By=<our URI SAN>;Hash=<SHA-256 of the client certificate>;Cert="...";Chain="...";Subject="...";URI=...;
 * DNS=...} — only when the client presented a certificate over TLS.
 */
public final class ClientCertHeader {
  public static final AsciiString XFCC = AsciiString.cached("x-forwarded-client-cert");

  /** {@code forward_client_cert_details}. */
  public enum Mode { SANITIZE, FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET, ALWAYS_FORWARD_ONLY }

  /** The mode and which {@code set_current_client_cert_details} parts this hop adds. */
  public record Config(Mode mode, boolean subject, boolean cert, boolean chain, boolean dns, boolean uri) {
    public static final Config DEFAULT = new Config(Mode.SANITIZE, false, false, false, false, false);
  }

  private ClientCertHeader() {}

  /** Applies {@code config} to a request's headers; {@code tls} is the downstream session (null over plaintext). */
  public static void apply(Config config, HttpHeaders h, @Nullable SSLSession tls) {
    if (config.mode() == Mode.ALWAYS_FORWARD_ONLY) {
      return;
    }
    X509Certificate peer = Certificates.peer(tls);
    if (peer == null || config.mode() == Mode.SANITIZE) {
      h.remove(XFCC); // no client certificate: nothing in the header can be vouched for
      return;
    }
    switch (config.mode()) {
      case FORWARD_ONLY -> { }
      case APPEND_FORWARD -> {
        String current = element(config, tls, peer);
        String previous = h.get(XFCC);
        h.set(XFCC, previous == null || previous.isEmpty() ? current : previous + "," + current);
      }
      case SANITIZE_SET -> h.set(XFCC, element(config, tls, peer));
      default -> h.remove(XFCC);
    }
  }

  /** This hop's element, in Envoy's order. */
  static String element(Config config, SSLSession tls, X509Certificate peer) {
    StringBuilder sb = new StringBuilder(128);
    String by = Certificates.firstSan(Certificates.local(tls), Certificates.URI);
    if (by != null) {
      sb.append("By=").append(value(by)).append(';');
    }
    String hash = Certificates.sha256Hex(peer);
    sb.append("Hash=").append(hash == null ? "" : hash);
    if (config.cert()) {
      sb.append(";Cert=\"").append(Certificates.urlEncodedPem(List.of(peer))).append('"');
    }
    if (config.chain()) {
      sb.append(";Chain=\"").append(Certificates.urlEncodedPem(chain(tls))).append('"');
    }
    if (config.subject()) {
      sb.append(";Subject=\"").append(peer.getSubjectX500Principal().getName().replace("\"", "\\\"")).append('"');
    }
    if (config.uri()) {
      for (String u : Certificates.sans(peer, Certificates.URI)) {
        sb.append(";URI=").append(value(u));
      }
    }
    if (config.dns()) {
      for (String d : Certificates.sans(peer, Certificates.DNS)) {
        sb.append(";DNS=").append(value(d));
      }
    }
    return sb.toString();
  }

  /** A value with a separator in it is double-quoted (and its quotes escaped), as Envoy writes it. */
  private static String value(String v) {
    if (v.indexOf(',') < 0 && v.indexOf(';') < 0 && v.indexOf('=') < 0 && v.indexOf('"') < 0) {
      return v;
    }
    return "\"" + v.replace("\"", "\\\"") + "\"";
  }

  private static List<X509Certificate> chain(SSLSession s) {
    try {
      return java.util.Arrays.stream(s.getPeerCertificates()).filter(c -> c instanceof X509Certificate)
          .map(c -> (X509Certificate) c).toList();
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }
}
