package io.bowline.core.tls;

import io.bowline.core.router.HeaderMatcher;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * What a peer's certificate must be beyond a chain to a trusted CA: a subject alternative name matching one of the
 * validation context's matchers (typed: a URI matcher sees URI SANs only, so a SPIFFE id written in a DNS SAN or the
 * CN never passes), a single URI SAN when it is a SPIFFE id (an X.509-SVID has exactly one), and the extended key
 * usage of its side (clientAuth for a client, serverAuth for a server) when the certificate lists any.
 */
public final class PeerCertificateRules {
  /** One {@code match_typed_subject_alt_names} entry; a null type is the deprecated untyped form (any SAN type). */
  public record SanMatcher(SanType type, HeaderMatcher value) {}

  /** The SAN types of {@code SubjectAltNameMatcher.SanType}, with their X.509 GeneralName tags. */
  public enum SanType {
    EMAIL(1), DNS(2), URI(6), IP_ADDRESS(7), ANY(-1);

    final int tag;

    SanType(int tag) {
      this.tag = tag;
    }
  }

  private final List<SanMatcher> sanMatchers;

  public PeerCertificateRules(List<SanMatcher> sanMatchers) {
    this.sanMatchers = List.copyOf(sanMatchers);
  }

  /** A trust manager checking the chain against {@code trustedCaPem}, then these rules. */
  public X509ExtendedTrustManager trustManager(byte[] trustedCaPem) throws Exception {
    Collection<? extends java.security.cert.Certificate> cas = CertificateFactory.getInstance("X.509")
        .generateCertificates(new java.io.ByteArrayInputStream(trustedCaPem));
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    int i = 0;
    for (var c : cas) {
      ks.setCertificateEntry("ca" + i++, c);
    }
    if (i == 0) {
      throw new CertificateException("trusted_ca holds no certificate");
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    X509ExtendedTrustManager pkix = null;
    for (var tm : tmf.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) {
        pkix = x;
      }
    }
    if (pkix == null) {
      throw new IllegalStateException("no X509 trust manager");
    }
    return new Checking(pkix);
  }

  /** Throws when {@code leaf} breaks a rule; {@code client} when it is a client's certificate. */
  void check(X509Certificate leaf, boolean client) throws CertificateException {
    // PKIX does not check a trust anchor's dates, and a self-signed peer certificate in the bundle is one;
    // BoringSSL checks every certificate's, so a leaf out of its validity is refused here either way
    leaf.checkValidity();
    List<String> uris = names(leaf, SanType.URI.tag);
    for (int tag : new int[] {SanType.DNS.tag, SanType.URI.tag, SanType.EMAIL.tag}) {
      for (String n : names(leaf, tag)) {
        if (n.indexOf('\0') >= 0) {
          throw new CertificateException("a subject alternative name with an embedded NUL");
        }
      }
    }
    if (uris.stream().anyMatch(u -> u.regionMatches(true, 0, "spiffe:", 0, 7))) {
      if (uris.size() != 1) {
        throw new CertificateException("an X.509-SVID has exactly one URI SAN, this certificate has " + uris.size());
      }
      if (!validSpiffeId(uris.get(0))) {
        throw new CertificateException("not a valid SPIFFE ID: " + uris.get(0));
      }
    }
    List<String> eku;
    try {
      eku = leaf.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new CertificateException("unreadable extended key usage", e);
    }
    String wanted = client ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1";
    if (eku != null && !eku.contains(wanted) && !eku.contains("2.5.29.37.0")) {
      throw new CertificateException("certificate not for TLS " + (client ? "client" : "server")
          + " authentication (extended key usage)");
    }
    if (sanMatchers.isEmpty()) {
      return;
    }
    for (SanMatcher m : sanMatchers) {
      for (String name : m.type() == SanType.ANY ? anyNames(leaf) : names(leaf, m.type().tag)) {
        if (m.value().matchesValue(name)) {
          return;
        }
      }
    }
    throw new SanMismatch();
  }

  /** The peer's names match none of the SAN matchers (Envoy's {@code ssl.fail_verify_san}, not a chain failure). */
  static final class SanMismatch extends CertificateException {
    private static final long serialVersionUID = 1L;

    SanMismatch() {
      super("no subject alternative name of the peer certificate matches");
    }
  }

  /**
   * The SPIFFE ID grammar: {@code spiffe://} in lower case, a trust domain of lower-case letters, digits, '.', '-'
   * and '_', then path segments of letters, digits, '.', '-' and '_' that are neither empty nor '.' nor '..'; no
   * percent-encoding, query, fragment, port or user info.
   */
  static boolean validSpiffeId(String id) {
    if (!id.startsWith("spiffe://") || id.length() > 2048) {
      return false;
    }
    String rest = id.substring("spiffe://".length());
    int slash = rest.indexOf('/');
    String domain = slash < 0 ? rest : rest.substring(0, slash);
    if (domain.isEmpty() || domain.length() > 255) {
      return false;
    }
    for (int i = 0; i < domain.length(); i++) {
      char c = domain.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_')) {
        return false;
      }
    }
    if (slash < 0) {
      return true;
    }
    for (String seg : rest.substring(slash + 1).split("/", -1)) {
      if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
        return false;
      }
      for (int i = 0; i < seg.length(); i++) {
        char c = seg.charAt(i);
        if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
            || c == '_')) {
          return false;
        }
      }
    }
    return true;
  }

  private static List<String> anyNames(X509Certificate c) throws CertificateException {
    List<String> out = new ArrayList<>(names(c, SanType.DNS.tag));
    out.addAll(names(c, SanType.URI.tag));
    out.addAll(names(c, SanType.IP_ADDRESS.tag));
    return out;
  }

  private static List<String> names(X509Certificate c, int tag) throws CertificateException {
    List<String> out = new ArrayList<>();
    try {
      var all = c.getSubjectAlternativeNames();
      if (all != null) {
        for (List<?> san : all) {
          if (san.size() >= 2 && Integer.valueOf(tag).equals(san.get(0)) && san.get(1) instanceof String s) {
            out.add(s);
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new CertificateException("unreadable subject alternative names", e);
    }
    return out;
  }

  /** PKIX first (chain, validity, the JDK's own checks), then the rules on the leaf. */
  private final class Checking extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;

    Checking(X509ExtendedTrustManager pkix) {
      this.pkix = pkix;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      pkix.checkClientTrusted(chain, authType, socket);
      check(chain[0], true);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType, socket);
      check(chain[0], false);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      pkix.checkClientTrusted(chain, authType, engine);
      check(chain[0], true);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType, engine);
      check(chain[0], false);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      pkix.checkClientTrusted(chain, authType);
      check(chain[0], true);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
      check(chain[0], false);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }

}
