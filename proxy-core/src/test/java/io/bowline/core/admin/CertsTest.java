package io.bowline.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.TestCerts;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** /certs' days until expiration: whole days left, 0 once expired. */
class CertsTest {
  @Test
  void daysUntilExpirationAreWholeDaysLeft() throws Exception {
    var x = TestCerts.identity("a.example").certificate();
    Instant notAfter = x.getNotAfter().toInstant();
    assertEquals(10, Certs.details(x, "/etc/certs/cert-chain.pem", notAfter.minus(Duration.ofDays(10)))
        .getDaysUntilExpiration());
    assertEquals(9, Certs.details(x, null, notAfter.minus(Duration.ofDays(10)).plusSeconds(1))
        .getDaysUntilExpiration());
    assertEquals(0, Certs.details(x, null, notAfter.plusSeconds(5)).getDaysUntilExpiration());
    assertEquals("<inline>", Certs.details(x, null, notAfter).getPath());
  }
}
