package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RoutingTest {
  private static VirtualHost vh(String name, String... domains) {
    return new VirtualHost(name, List.of(domains), List.of(), HeaderMutation.NONE, HeaderMutation.NONE, VirtualHost.RequireTls.NONE);
  }

  @Test
  void domainPrecedenceIsEnvoys() {
    RouteTable t = new RouteTable("r", List.of(vh("star", "*"), vh("exact", "foo.example.com"),
        vh("suffix", "*.example.com"), vh("longsuffix", "*.bar.example.com"), vh("prefix", "foo.*"),
        vh("port", "foo.example.com:8080")), HeaderMutation.NONE, HeaderMutation.NONE);
    assertEquals("exact", t.virtualHost("FOO.example.com").name());
    assertEquals("port", t.virtualHost("foo.example.com:8080").name());
    assertEquals("longsuffix", t.virtualHost("a.bar.example.com").name());
    assertEquals("suffix", t.virtualHost("a.example.com").name());
    assertEquals("prefix", t.virtualHost("foo.other").name());
    assertEquals("star", t.virtualHost("unrelated").name());
    assertEquals("star", t.virtualHost("example.com").name(), "*.example.com needs something before the suffix");
  }

  @Test
  void ignorePortInHostMatchingChoosesByTheNameAlone() {
    RouteTable t = new RouteTable("r", List.of(vh("exact", "a.example.com"), vh("v6", "[::1]"),
        vh("suffix", "*.example.com")), HeaderMutation.NONE, HeaderMutation.NONE, true);
    assertEquals("exact", t.virtualHost("a.example.com:8080").name());
    assertEquals("suffix", t.virtualHost("b.example.com:80").name());
    assertEquals("v6", t.virtualHost("[::1]:9000").name());
    assertEquals("v6", t.virtualHost("[::1]").name());
    assertNull(t.virtualHost("a.example.com:x80"), "not a port");
    RouteTable strict = new RouteTable("r", List.of(vh("exact", "a.example.com")), HeaderMutation.NONE,
        HeaderMutation.NONE);
    assertNull(strict.virtualHost("a.example.com:8080"), "by default the port is part of the name, as in Envoy");
  }

  @Test
  void noCatchAllMeansNoVirtualHost() {
    RouteTable t = new RouteTable("r", List.of(vh("exact", "a")), HeaderMutation.NONE, HeaderMutation.NONE);
    assertNull(t.virtualHost("b"));
  }

  @Test
  void pathMatchers() {
    assertTrue(new PathMatcher.Prefix("/api", true).matches("/api/x"));
    assertFalse(new PathMatcher.Prefix("/api", true).matches("/API/x"));
    assertTrue(new PathMatcher.Prefix("/api", false).matches("/API/x"));
    assertTrue(new PathMatcher.Exact("/a", true).matches("/a"));
    assertFalse(new PathMatcher.Exact("/a", true).matches("/a/"));
    assertTrue(new PathMatcher.SeparatedPrefix("/api", true).matches("/api"));
    assertTrue(new PathMatcher.SeparatedPrefix("/api", true).matches("/api/v1"));
    assertFalse(new PathMatcher.SeparatedPrefix("/api", true).matches("/apiv1"));
    assertTrue(new PathMatcher.Regex(Pattern.compile("/u/[0-9]+")).matches("/u/42"));
    assertFalse(new PathMatcher.Regex(Pattern.compile("/u/[0-9]+")).matches("/u/42/x"));
  }

  @Test
  void headerMatchersFollowEnvoy() {
    HttpHeaders h = new DefaultHttpHeaders().add("x-a", "Hello").add("x-n", "15").add("x-m", "1").add("x-m", "2");
    assertTrue(new HeaderMatcher("x-a", HeaderMatcher.Kind.EXACT, "Hello", null, 0, 0, true, false, false, false)
        .matches(h));
    assertTrue(new HeaderMatcher("x-a", HeaderMatcher.Kind.EXACT, "hello", null, 0, 0, true, true, false, false)
        .matches(h));
    assertTrue(new HeaderMatcher("x-n", HeaderMatcher.Kind.RANGE, null, null, 10, 20, true, false, false, false)
        .matches(h));
    assertFalse(new HeaderMatcher("x-n", HeaderMatcher.Kind.RANGE, null, null, 10, 15, true, false, false, false)
        .matches(h), "range end is exclusive");
    assertTrue(new HeaderMatcher("x-m", HeaderMatcher.Kind.EXACT, "1,2", null, 0, 0, true, false, false, false)
        .matches(h), "repeated headers are joined with ','");
    assertFalse(new HeaderMatcher("x-missing", HeaderMatcher.Kind.EXACT, "v", null, 0, 0, true, false, true, false)
        .matches(h), "a missing header never matches, even inverted");
    assertTrue(new HeaderMatcher("x-missing", HeaderMatcher.Kind.PRESENT, null, null, 0, 0, false, false, false,
        false).matches(h), "present_match: false matches an absent header");
    assertTrue(new HeaderMatcher("x-a", HeaderMatcher.Kind.SUFFIX, "llo", null, 0, 0, true, false, false, false)
        .matches(h));
    assertTrue(new HeaderMatcher("x-a", HeaderMatcher.Kind.CONTAINS, "ell", null, 0, 0, true, false, false, false)
        .matches(h));
  }

  @Test
  void queryParameters() {
    QueryParameterMatcher m = new QueryParameterMatcher("q", HeaderMatcher.Kind.EXACT, "1", null, false);
    assertTrue(m.matches("a=2&q=1"));
    assertFalse(m.matches("a=2&q=2"));
    assertFalse(m.matches(null));
    assertTrue(new QueryParameterMatcher("flag", HeaderMatcher.Kind.PRESENT, null, null, false).matches("flag"));
  }
}
