package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** How route rate_limits turn a request into descriptors (Envoy's RateLimitPolicyEntryImpl semantics). */
class RateLimitPolicyTest {
  record Req(HttpHeaders headers, RequestLine line, @Nullable String query) implements RateLimitPolicy.Request {
    @Override
    public InetSocketAddress trustedClient() {
      return new InetSocketAddress("10.1.2.3", 0);
    }

    @Override
    public @Nullable String destinationCluster() {
      return "svc";
    }
  }

  static Req request(String path, String query, String... headers) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i < headers.length; i += 2) {
      h.add(headers[i], headers[i + 1]);
    }
    return new Req(h, RequestLine.of("GET", path + (query == null ? "" : "?" + query), "http"), query);
  }

  static List<RateLimitPolicy.Entry> e(String... kv) {
    List<RateLimitPolicy.Entry> out = new java.util.ArrayList<>();
    for (int i = 0; i < kv.length; i += 2) {
      out.add(new RateLimitPolicy.Entry(kv[i], kv[i + 1]));
    }
    return out;
  }

  @Test
  void eachLimitMakesOneDescriptorFromItsActionsInOrder() {
    RateLimitPolicy p = new RateLimitPolicy(List.of(new RateLimitPolicy.Limit(0, List.of(
        new RateLimitPolicy.DestinationCluster(), new RateLimitPolicy.RemoteAddress(),
        new RateLimitPolicy.RequestHeader(":method", "method", false),
        new RateLimitPolicy.QueryParameter("user", "user", false)))));
    assertEquals(List.of(e("destination_cluster", "svc", "remote_address", "10.1.2.3", "method", "GET", "user", "ann")),
        p.descriptors(0, request("/a", "x=1&user=ann&user=bob")));
  }

  @Test
  void anIpv6ClientIsNamedInEnvoysCompressedForm() throws Exception {
    RateLimitPolicy p = new RateLimitPolicy(List.of(new RateLimitPolicy.Limit(0, List.of(
        new RateLimitPolicy.RemoteAddress()))));
    InetSocketAddress v6 = new InetSocketAddress(java.net.InetAddress.getByName("2001:db8:0:0:0:0:0:7"), 0);
    RateLimitPolicy.Request r = new RateLimitPolicy.Request() {
      @Override
      public HttpHeaders headers() {
        return new DefaultHttpHeaders();
      }

      @Override
      public RequestLine line() {
        return RequestLine.of("GET", "/", "http");
      }

      @Override
      public @Nullable String query() {
        return null;
      }

      @Override
      public InetSocketAddress trustedClient() {
        return v6;
      }

      @Override
      public @Nullable String destinationCluster() {
        return "svc";
      }
    };
    // what a rate limit service's descriptors were written against: Envoy's text, not Java's 2001:db8:0:0:0:0:0:7
    assertEquals(List.of(e("remote_address", "2001:db8::7")), p.descriptors(0, r));
    assertEquals("2001:db8::7", new HashPolicy(HashPolicy.Kind.SOURCE_IP, "", false)
        .value(new DefaultHttpHeaders(), null, v6));
  }

  @Test
  void aMissingValueDropsTheDescriptorUnlessSkipIfAbsentWhichDropsOnlyTheEntry() {
    RateLimitPolicy p = new RateLimitPolicy(List.of(
        new RateLimitPolicy.Limit(0, List.of(new RateLimitPolicy.GenericKey("generic_key", "a"),
            new RateLimitPolicy.RequestHeader("x-user", "user", false))),
        new RateLimitPolicy.Limit(0, List.of(new RateLimitPolicy.GenericKey("generic_key", "b"),
            new RateLimitPolicy.RequestHeader("x-user", "user", true)))));
    assertEquals(List.of(e("generic_key", "b")), p.descriptors(0, request("/", null)));
    assertEquals(List.of(e("generic_key", "a", "user", "u1"), e("generic_key", "b", "user", "u1")),
        p.descriptors(0, request("/", null, "x-user", "u1")));
  }

  @Test
  void onlyTheLimitsOfTheFiltersStageApply() {
    RateLimitPolicy p = new RateLimitPolicy(List.of(
        new RateLimitPolicy.Limit(0, List.of(new RateLimitPolicy.GenericKey("k", "zero"))),
        new RateLimitPolicy.Limit(2, List.of(new RateLimitPolicy.GenericKey("k", "two")))));
    assertEquals(List.of(e("k", "two")), p.descriptors(2, request("/", null)));
  }

  @Test
  void headerValueMatchCanExpectNoMatch() {
    HeaderMatcher isAdmin = new HeaderMatcher("x-role", HeaderMatcher.Kind.EXACT, "admin", null, 0, 0, false,
        false, false, false);
    RateLimitPolicy p = new RateLimitPolicy(List.of(new RateLimitPolicy.Limit(0, List.of(
        new RateLimitPolicy.HeaderValueMatch("header_match", "not-admin", false, List.of(isAdmin))))));
    assertEquals(List.of(e("header_match", "not-admin")), p.descriptors(0, request("/", null, "x-role", "user")));
    assertEquals(List.of(), p.descriptors(0, request("/", null, "x-role", "admin")));
  }
}
