package io.bowline.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Envoy's address text: {@code ip:port}, IPv6 compressed and bracketed, the bare address without the port. */
class AddressTextTest {
  @Test
  void envoysForms() {
    assertEquals("10.1.2.3:8080", AddressText.of(new InetSocketAddress("10.1.2.3", 8080)));
    assertEquals("[::1]:15001", AddressText.of(new InetSocketAddress("::1", 15001)));
    assertEquals("[2001:db8::7]:80", AddressText.of(new InetSocketAddress("2001:db8:0:0:0:0:0:7", 80)));
    assertEquals("::1", AddressText.ip(new InetSocketAddress("::1", 15001)));
    assertEquals("backend.invalid:80", AddressText.of(InetSocketAddress.createUnresolved("backend.invalid", 80)));
    assertNull(AddressText.of(null));
  }
}
