package io.bowline.core.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** A listener without stat_prefix is named in its stats by its address, as Envoy writes it. */
class ListenerStatNameTest {
  @Test
  void addressesAsEnvoyWritesThemWithColonsMadeUnderscores() throws Exception {
    assertEquals("0.0.0.0_15001", ListenerCompiler.addressStatName(
        new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 15001)));
    // Envoy: listener.[__]_15001.* (its listener_address tag reads brackets and hex), not 0_0_0_0_0_0_0_0_15001
    assertEquals("[__]_15001", ListenerCompiler.addressStatName(
        new InetSocketAddress(InetAddress.getByName("::"), 15001)));
    assertEquals("[2001_db8__7]_80", ListenerCompiler.addressStatName(
        new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 80)));
  }
}
