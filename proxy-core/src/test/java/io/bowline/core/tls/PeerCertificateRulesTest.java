package io.bowline.core.tls;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.TestCerts;
import java.security.cert.CertificateException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HOSTILE-INPUTS TLS-04/05: what an X.509-SVID's URI SAN may be. */
class PeerCertificateRulesTest {
  @Test
  void spiffeIdGrammar() {
    assertTrue(PeerCertificateRules.validSpiffeId("spiffe://cluster.local/ns/default/sa/productpage"));
    assertTrue(PeerCertificateRules.validSpiffeId("spiffe://example.org"));
    for (String bad : List.of("spiffe://cluster.local/ns/default%2Fsa/x", "spiffe://cluster.local/ns/../sa/x",
        "spiffe://cluster.local/ns/default/sa/x/", "spiffe://cluster.local/ns/default/sa/x?admin=1",
        "SPIFFE://cluster.local/ns/default/sa/x", "spiffe://Cluster.Local/ns/x", "spiffe://cluster.local:443/ns/x",
        "spiffe://user@cluster.local/ns/x", "spiffe:///ns/x", "spiffe://cluster.local//x")) {
      assertFalse(PeerCertificateRules.validSpiffeId(bad), bad);
    }
  }

  @Test
  void certificatesBreakingTheSvidRulesAreRefused() throws Exception {
    PeerCertificateRules rules = new PeerCertificateRules(List.of());
    assertDoesNotThrow(() -> rules.check(TestCerts.identity("a", "spiffe://cluster.local/ns/d/sa/a")
        .certificate(), true));
    assertDoesNotThrow(() -> rules.check(TestCerts.identity("plain.example").certificate(), true),
        "a certificate that claims no SPIFFE id is not an SVID");
    assertThrows(CertificateException.class, () -> rules.check(TestCerts.identity("a",
        "spiffe://cluster.local/ns/d/sa/a", "spiffe://cluster.local/ns/d/sa/b").certificate(), true));
    assertThrows(CertificateException.class, () -> rules.check(TestCerts.identity("a",
        "SPIFFE://cluster.local/ns/d/sa/a").certificate(), true));
    assertThrows(CertificateException.class, () -> rules.check(TestCerts.identity("a",
        "spiffe://cluster.local/ns/d/sa/a%2F..").certificate(), true));
    assertThrows(CertificateException.class, () -> rules.check(TestCerts.identity("evil\u0000.example.com")
        .certificate(), true), "an embedded NUL");
  }
}
