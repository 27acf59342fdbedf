package io.bowline.core.testing;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates with a DNS subject alternative name, as PEM, for tests that verify names. */
public final class TestCerts {
  /** A certificate and its key, PEM-encoded. */
  public record Pem(String certificate, String privateKey) {
    /** The PEM as a YAML double-quoted scalar. */
    public static String yaml(String pem) {
      return "\"" + pem.replace("\n", "\\n") + "\"";
    }
  }

  private TestCerts() {}

  /** A client context that trusts any server: for tests of what the proxy does, not of who it is. */
  public static javax.net.ssl.SSLContext trustAll() throws Exception {
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String a) {}

      public void checkServerTrusted(X509Certificate[] c, String a) {}

      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    return ctx;
  }

  public static Pem selfSigned(String dnsName) throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
    kpg.initialize(256);
    KeyPair kp = kpg.generateKeyPair();
    X500Name name = new X500Name("CN=" + dnsName);
    long now = System.currentTimeMillis();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now
        - 60_000), new Date(now + 86_400_000L), name, kp.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    return new Pem(pem("CERTIFICATE", cert.getEncoded()), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
  }

  /** A certificate with the given URI SANs (SPIFFE ids) and DNS name, its key, and both as PEM. */
  public record Identity(X509Certificate certificate, java.security.PrivateKey key, Pem pem) {
    /** A JDK SSLContext presenting this identity and trusting {@code trusted}. */
    public javax.net.ssl.SSLContext sslContext(X509Certificate trusted) throws Exception {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("me", key, new char[0], new java.security.cert.Certificate[] {certificate});
      javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
          javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
      java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      ts.setCertificateEntry("peer", trusted);
      javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
          javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ts);
      javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
      c.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return c;
    }
  }

  public static Identity identity(String dnsName, String... uris) throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
    kpg.initialize(256);
    KeyPair kp = kpg.generateKeyPair();
    X500Name name = new X500Name("CN=" + dnsName + ",O=bowline");
    long now = System.currentTimeMillis();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now
        - 60_000), new Date(now + 86_400_000L), name, kp.getPublic());
    GeneralName[] names = new GeneralName[uris.length + 2];
    names[0] = new GeneralName(GeneralName.dNSName, dnsName);
    names[1] = new GeneralName(GeneralName.iPAddress, "127.0.0.1"); // the tests' clients dial the loopback address
    for (int i = 0; i < uris.length; i++) {
      names[i + 2] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
    }
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    return new Identity(cert, kp.getPrivate(), new Pem(pem("CERTIFICATE", cert.getEncoded()),
        pem("PRIVATE KEY", kp.getPrivate().getEncoded())));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
