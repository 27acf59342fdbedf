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

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
