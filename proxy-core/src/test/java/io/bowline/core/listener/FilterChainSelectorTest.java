package io.bowline.core.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.bowline.core.config.FilterChainConfig;
import io.bowline.core.config.TcpProxyConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SNIHostName;
import org.junit.jupiter.api.Test;

class FilterChainSelectorTest {
  private static FilterChainConfig chain(String name, FilterChainMatch m) {
    return new FilterChainConfig(name, m, null, new TcpProxyConfig("t", List.of(), 1, 0, null, null, null, List.of(), List.of()), List.of());
  }

  private static FilterChainMatch m(Integer port, List<String> sni, String transport, List<String> alpn,
      List<CidrRange> src) {
    return new FilterChainMatch(port, List.of(), sni, transport, alpn, src, List.of());
  }

  private static ConnectionFacts facts(int localPort, String sni, String transport, List<String> alpn, String src)
      throws Exception {
    return new ConnectionFacts(new InetSocketAddress("127.0.0.1", localPort),
        new InetSocketAddress(InetAddress.getByName(src), 5555), sni, transport, alpn);
  }

  @Test
  void envoyOrderMostSpecificWinsAtEachStep() throws Exception {
    FilterChainSelector s = new FilterChainSelector(List.of(
        chain("any", FilterChainMatch.ANY),
        chain("port", m(8443, List.of(), null, List.of(), List.of())),
        chain("sni-exact", m(8443, List.of("api.example.com"), null, List.of(), List.of())),
        chain("sni-wild", m(8443, List.of("*.example.com"), null, List.of(), List.of())),
        chain("tls-h2", m(9000, List.of(), "tls", List.of("h2"), List.of())),
        chain("tls", m(9000, List.of(), "tls", List.of(), List.of())),
        chain("src", m(9100, List.of(), null, List.of(),
            List.of(CidrRange.of(InetAddress.getByName("10.0.0.0"), 8))))),
        null);
    assertEquals("sni-exact", s.select(facts(8443, "api.example.com", "tls", List.of(), "1.1.1.1")).name());
    assertEquals("sni-wild", s.select(facts(8443, "www.example.com", "tls", List.of(), "1.1.1.1")).name());
    assertEquals("port", s.select(facts(8443, "other.org", "tls", List.of(), "1.1.1.1")).name());
    assertEquals("tls-h2", s.select(facts(9000, null, "tls", List.of("h2", "http/1.1"), "1.1.1.1")).name());
    assertEquals("tls", s.select(facts(9000, null, "tls", List.of("http/1.1"), "1.1.1.1")).name());
    assertNull(s.select(facts(9000, null, "raw_buffer", List.of(), "1.1.1.1")),
        "no backtracking to the port-less chain once port 9000 matched specifically");
    assertEquals("src", s.select(facts(9100, null, "raw_buffer", List.of(), "10.1.2.3")).name());
    assertNull(s.select(facts(9100, null, "raw_buffer", List.of(), "11.1.2.3")));
    assertEquals("any", s.select(facts(1234, null, "raw_buffer", List.of(), "1.1.1.1")).name());
  }

  @Test
  void clientHelloGivesSniAndAlpn() throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, null, null);
    SSLEngine e = ctx.createSSLEngine("api.example.com", 443);
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName("api.example.com")));
    p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
    e.setSSLParameters(p);
    java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(32 * 1024);
    e.wrap(java.nio.ByteBuffer.allocate(0), out);
    out.flip();
    io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.wrappedBuffer(out);
    ClientHello.Result r = ClientHello.parse(b);
    assertEquals(true, r.tls());
    assertEquals("api.example.com", r.serverName());
    assertEquals(List.of("h2", "http/1.1"), r.alpn());
    ClientHello.Result partial = ClientHello.parse(b.slice(0, 10));
    assertEquals(true, partial.needMore());
    assertEquals(false, ClientHello.parse(io.netty.buffer.Unpooled.wrappedBuffer("GET / HTTP/1.1".getBytes()))
        .tls());
  }
}
