package io.bowline.core.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.bowline.xds.ConfigException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Socket addresses in config are IP literals: parsed without a lookup, refused with the field's path otherwise. */
class AddressLiteralTest {
  @Test
  void literalsOfEitherFamily() throws Exception {
    assertArrayEquals(new byte[] {10, 0, 0, 7}, ListenerCompiler.literal("10.0.0.7", "p").getAddress());
    InetAddress v6 = ListenerCompiler.literal("2001:db8::1", "p");
    assertInstanceOf(Inet6Address.class, v6);
    assertEquals(InetAddress.getByName("2001:db8::1"), v6);
    assertInstanceOf(Inet4Address.class, ListenerCompiler.literal("::ffff:10.0.0.7", "p"), "mapped: IPv4");
    assertEquals(InetAddress.getByName("::"), ListenerCompiler.literal("::", "p"));
    assertEquals(InetAddress.getByName("0.0.0.0"), ListenerCompiler.literal("0.0.0.0", "p"));
    assertEquals(InetAddress.getByName("fe80::1%1"), ListenerCompiler.literal("fe80::1%1", "p"), "a scope id");
    assertEquals(InetAddress.getByName("127.1"), ListenerCompiler.literal("127.1", "p"), "the short forms getByName reads");
  }

  @Test
  void namesAndBadLiteralsAreRefusedWithThePath() {
    ConfigException name = assertThrows(ConfigException.class,
        () -> ListenerCompiler.literal("backend.local", "clusters[0].load_assignment.address"));
    assertEquals("clusters[0].load_assignment.address", name.fieldPath());
    assertEquals("an IP address is required, got \"backend.local\"", name.reason());
    ConfigException bad = assertThrows(ConfigException.class, () -> ListenerCompiler.literal("300.1.1.1", "a"));
    assertEquals("invalid IP address \"300.1.1.1\"", bad.reason());
    assertThrows(ConfigException.class, () -> ListenerCompiler.literal("1::2::3", "a"));
  }
}
