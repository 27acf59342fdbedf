package io.bowline.core.tls;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.ssl.OpenSslSession;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.internal.tcnative.SSL;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's TLS stats of one listener ({@code listener.<address>.ssl.}) or cluster ({@code cluster.<name>.ssl.}),
 * counted as each handshake ends: {@code handshake}, {@code session_reused}, {@code no_certificate} (a client that
 * sent none, where none was required), {@code ciphers.<name>}, {@code versions.<TLSv1.x>} and {@code curves.<group>}
 * for the ones that succeed, and for the ones that fail, why: {@code fail_verify_no_cert} (a required client
 * certificate missing), {@code fail_verify_san} (the peer's names match no {@code match_typed_subject_alt_names}),
 * {@code fail_verify_error} (its chain does not verify, or another rule refused it), {@code connection_error}
 * (anything else TLS refused: no common protocol or cipher, a malformed message, a timeout). A peer that closes the
 * connection mid-handshake counts as none of these, as in Envoy. Cipher names are BoringSSL's, as Envoy writes them.
 */
public final class TlsStats {
  private final Stats.Scope scope;
  final Counter handshake;
  final Counter sessionReused;
  final Counter noCertificate;
  final Counter connectionError;
  final Counter failVerifyNoCert;
  final Counter failVerifyError;
  final Counter failVerifySan;
  /** The named counters met so far, by name: a few per scope. */
  private final ConcurrentHashMap<String, Counter> ciphers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> versions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> curves = new ConcurrentHashMap<>();

  private TlsStats(Stats.Scope scope) {
    this.scope = scope;
    handshake = scope.counter("handshake");
    sessionReused = scope.counter("session_reused");
    noCertificate = scope.counter("no_certificate");
    connectionError = scope.counter("connection_error");
    failVerifyNoCert = scope.counter("fail_verify_no_cert");
    failVerifyError = scope.counter("fail_verify_error");
    failVerifySan = scope.counter("fail_verify_san");
    scope.counter("fail_verify_cert_hash"); // shown as Envoy shows it: bowline refuses certificate pinning by field
  }

  /** {@code scope} is the listener's or cluster's; the stats go under its {@code ssl.}. */
  public static TlsStats of(Stats.Scope scope) {
    return new TlsStats(scope.scope("ssl."));
  }

  /** Counts how {@code ssl}'s handshake ends; {@code server}: this proxy accepted the connection. */
  public void watch(SslHandler ssl, boolean server) {
    ssl.handshakeFuture().addListener(f -> {
      if (f.isSuccess()) {
        succeeded(ssl.engine(), server);
      } else {
        failed(f.cause());
      }
    });
  }

  private void succeeded(SSLEngine engine, boolean server) {
    handshake.inc();
    SSLSession session = engine.getSession();
    if (server && !hasPeerCertificate(session)) {
      noCertificate.inc();
    }
    if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
      long ssl = openSsl.sslPointer(); // 0 once the engine is freed: the connection closed in the meantime
      if (ssl != 0 && SSL.isSessionReused(ssl)) {
        sessionReused.inc();
      }
    }
    String version = session.getProtocol();
    String cipher = session.getCipherSuite();
    if (cipher != null && !cipher.isEmpty()) {
      // BoringSSL names TLS 1.3's suites as the RFC does (TLS_AES_128_GCM_SHA256), older ones its own way
      String openSslName = "TLSv1.3".equals(version) ? null : CipherSuiteConverter.toOpenSsl(cipher, true);
      named(ciphers, "ciphers.", openSslName != null ? openSslName : cipher).inc();
    }
    if (version != null && !version.isEmpty() && !"NONE".equals(version)) {
      named(versions, "versions.", version).inc();
    }
    if (session instanceof OpenSslSession s) {
      String group = s.getNamedGroup();
      if (group != null && !group.isEmpty()) {
        named(curves, "curves.", group).inc();
      }
    }
  }

  private static boolean hasPeerCertificate(SSLSession session) {
    if (session instanceof OpenSslSession s) {
      return s.hasPeerCertificates();
    }
    try {
      return session.getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private void failed(@Nullable Throwable cause) {
    switch (reason(cause)) {
      case CLOSED -> { }
      case NO_CERTIFICATE -> failVerifyNoCert.inc();
      case SAN -> failVerifySan.inc();
      case VERIFY -> failVerifyError.inc();
      default -> connectionError.inc();
    }
  }

  enum Reason { CLOSED, NO_CERTIFICATE, SAN, VERIFY, OTHER }

  /** Why a handshake failed, from the causes BoringSSL's and the JDK's engines give. */
  static Reason reason(@Nullable Throwable cause) {
    Reason found = Reason.OTHER;
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PeerCertificateRules.SanMismatch) {
        return Reason.SAN;
      }
      if (t instanceof ClosedChannelException) {
        found = Reason.CLOSED;
      }
      if (t instanceof CertificateException && found == Reason.OTHER) {
        found = Reason.VERIFY;
      }
      String m = t.getMessage();
      if (m != null && (m.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE")
          || m.contains("Empty client certificate chain"))) {
        return Reason.NO_CERTIFICATE;
      }
    }
    return found;
  }

  private Counter named(ConcurrentHashMap<String, Counter> kind, String prefix, String name) {
    Counter c = kind.get(name);
    return c != null ? c : kind.computeIfAbsent(name, n -> scope.counter(prefix + n));
  }
}
