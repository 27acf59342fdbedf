package io.bowline.core.tls;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The certificates of a TLS session and the names in them, as every reader of identities (RBAC, Istio's metrics and
 * authn, ext_authz, x-forwarded-client-cert, access logs) needs them.
 */
public final class Certificates {
  /** Subject alternative name types (RFC 5280's GeneralName tags, as the JDK reports them). */
  public static final int DNS = 2;
  public static final int URI = 6;

  private Certificates() {}

  /** The peer's verified leaf certificate, or null without TLS or a (verified) certificate. */
  public static @Nullable X509Certificate peer(@Nullable SSLSession s) {
    if (s == null) {
      return null;
    }
    try {
      Certificate[] chain = s.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** This side's leaf certificate, or null. */
  public static @Nullable X509Certificate local(@Nullable SSLSession s) {
    Certificate[] chain = s == null ? null : s.getLocalCertificates();
    return chain != null && chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
  }

  /** The certificate's subject alternative names of one type, in order; empty when none or unreadable. */
  public static List<String> sans(@Nullable X509Certificate c, int type) {
    if (c == null) {
      return List.of();
    }
    try {
      var all = c.getSubjectAlternativeNames();
      if (all == null) {
        return List.of();
      }
      List<String> out = new ArrayList<>(2);
      for (List<?> san : all) {
        if (san.size() >= 2 && san.get(0) instanceof Integer t && t == type) {
          out.add(String.valueOf(san.get(1)));
        }
      }
      return out;
    } catch (CertificateParsingException e) {
      return List.of(); // unreadable names match nothing
    }
  }

  /** The first name of that type (a SPIFFE id for {@link #URI}), or null. */
  public static @Nullable String firstSan(@Nullable X509Certificate c, int type) {
    List<String> l = sans(c, type);
    return l.isEmpty() ? null : l.get(0);
  }

  /** The certificate's SHA-256 in lower-case hex (Envoy's fingerprint and XFCC Hash), or null if unencodable. */
  public static @Nullable String sha256Hex(@Nullable X509Certificate c) {
    if (c == null) {
      return null;
    }
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(c.getEncoded()));
    } catch (java.security.GeneralSecurityException e) {
      return null;
    }
  }

  /**
   * The certificates as PEM, URL-encoded as Envoy puts them in headers (XFCC Cert and Chain, ext_authz's
   * certificate); an unencodable one is left out.
   */
  public static String urlEncodedPem(List<X509Certificate> certs) {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate c : certs) {
      try {
        pem.append("-----BEGIN CERTIFICATE-----\n")
            .append(java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (java.security.cert.CertificateEncodingException e) {
        // left out
      }
    }
    return java.net.URLEncoder.encode(pem.toString(), java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }
}
