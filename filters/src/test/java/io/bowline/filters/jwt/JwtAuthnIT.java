package io.bowline.filters.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * jwt_authn through a real proxy with Istio's sample key and token (../shared/fixtures/istio/jwt/samples): a valid
 * token passes with its effects; a missing, tampered, expired, unsigned, key-confused or self-keyed token is refused
 * with Envoy's 401; keys fetched from a real JWKS server through a cluster, once; requires_any with allow_missing;
 * and a route that turns the filter off.
 */
@ExtendWith(LeakGuard.class)
class JwtAuthnIT {
  static final Path SAMPLES = Path.of("..", "..", "shared", "fixtures", "istio", "jwt", "samples").toAbsolutePath();
  static final String ISSUER = "testing@secure.istio.io";

  private static String bootstrap(String jwks, String extraClusters) {
    return """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/health"}
                        route: {cluster: backend}
                        typed_per_filter_config:
                          envoy.filters.http.jwt_authn: {"@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig, disabled: true}
                      - match: {prefix: "/"}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      providers:
                        istio:
                          issuer: testing@secure.istio.io
                          JWKS
                          forward_payload_header: x-jwt-payload
                          claim_to_headers: [{header_name: x-jwt-sub, claim_name: sub}, {header_name: x-jwt-foo, claim_name: foo}]
                      rules:
                      - match: {prefix: "/optional"}
                        requires: {requires_any: {requirements: [{provider_name: istio}, {allow_missing: {}}]}}
                      - match: {prefix: "/"}
                        requires: {provider_name: istio}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("JWKS", jwks) + extraClusters;
  }

  private static String jwks() throws Exception {
    return Files.readString(SAMPLES.resolve("jwks.json"));
  }

  private static String demo() throws Exception {
    return Files.readString(SAMPLES.resolve("demo.jwt")).trim();
  }

  private static RSAKey sampleKey() throws Exception {
    return JWK.parseFromPEMEncodedObjects(Files.readString(SAMPLES.resolve("key.pem"))).toRSAKey();
  }

  private static HttpResponse<String> get(ProxyHarness proxy, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("http", path)).timeout(Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(b.build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void localJwksAcceptsTheSampleTokenAndRefusesForgeries() throws Exception {
    String inline = "local_jwks: {inline_string: \"" + jwks().replace("\\", "\\\\").replace("\"", "\\\"")
        .replace("\n", "\\n") + "\"}";
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), bootstrap(inline, ""),
            Map.of("PORT", backend.port()))) {
      HttpResponse<String> ok = get(proxy, "/echo/a", demo());
      assertEquals(200, ok.statusCode());
      assertFalse(ok.headers().firstValue("x-echo-h-authorization").isPresent(), "forward: false strips the token");
      assertEquals(ISSUER, ok.headers().firstValue("x-echo-h-x-jwt-sub").orElseThrow());
      assertEquals("bar", ok.headers().firstValue("x-echo-h-x-jwt-foo").orElseThrow());
      String payload = new String(Base64.getUrlDecoder().decode(ok.headers().firstValue("x-echo-h-x-jwt-payload")
          .orElseThrow()), StandardCharsets.UTF_8);
      assertTrue(payload.contains("\"iss\":\"" + ISSUER + "\""), payload);

      HttpResponse<String> missing = get(proxy, "/echo/a", null);
      assertEquals(401, missing.statusCode());
      assertEquals("Jwt is missing", missing.body());
      assertTrue(missing.headers().firstValue("www-authenticate").orElseThrow().matches(
          "Bearer realm=\"http://127\\.0\\.0\\.1:\\d+/echo/a\""), missing.headers().map().toString());

      String[] parts = demo().split("\\.");
      String tampered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
          "{\"iss\":\"testing@secure.istio.io\",\"sub\":\"admin\",\"exp\":4685989700}".getBytes()) + "." + parts[2];
      RSAKey sample = sampleKey();
      RSAKey attacker = new RSAKeyGenerator(2048).keyID(sample.getKeyID()).generate();
      JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject("admin")
          .expirationTime(new Date(System.currentTimeMillis() + 600_000)).build();
      String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes()) + "."
          + Base64.getUrlEncoder().withoutPadding().encodeToString(claims.toString().getBytes()) + ".";
      SignedJWT confused = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(sample.getKeyID()).build(),
          claims); // HMAC keyed with the public key: the classic RS/HS confusion
      confused.sign(new MACSigner(sample.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)));
      SignedJWT selfKeyed = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID())
          .jwk(attacker.toPublicJWK()).type(JOSEObjectType.JWT).build(), claims);
      selfKeyed.sign(new RSASSASigner(attacker));
      SignedJWT expired = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID()).build(),
          new JWTClaimsSet.Builder().issuer(ISSUER).expirationTime(new Date(System.currentTimeMillis() - 120_000))
              .build());
      expired.sign(new RSASSASigner(sample));
      SignedJWT otherIssuer = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID())
          .build(), new JWTClaimsSet.Builder().issuer("evil@example.com").build());
      otherIssuer.sign(new RSASSASigner(sample));
      SignedJWT future = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID()).build(),
          new JWTClaimsSet.Builder().issuer(ISSUER).issueTime(new Date(System.currentTimeMillis() + 3_600_000))
              .build());
      future.sign(new RSASSASigner(sample));
      SignedJWT critical = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID())
          .criticalParams(java.util.Set.of("exp-unknown")).customParam("exp-unknown", 1).build(), claims);
      critical.sign(new RSASSASigner(sample));
      for (String bad : new String[] {tampered, none, confused.serialize(), selfKeyed.serialize(),
          expired.serialize(), otherIssuer.serialize(), future.serialize(), critical.serialize(), "not-a-jwt",
          "a.b.c.d.e"}) {
        HttpResponse<String> r = get(proxy, "/echo/a", bad);
        assertEquals(401, r.statusCode(), bad);
        assertTrue(r.headers().firstValue("www-authenticate").orElseThrow().endsWith(", error=\"invalid_token\""));
      }
      SignedJWT fresh = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID()).build(),
          claims);
      fresh.sign(new RSASSASigner(sample));
      assertEquals(200, get(proxy, "/echo/b", fresh.serialize()).statusCode(), "a token minted with the sample key");

      // a token in the query (Envoy's default access_token) is accepted and taken out of the forwarded URL
      HttpResponse<String> query = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
          HttpRequest.newBuilder(proxy.uri("http", "/echo/q?a=1&access_token=" + demo() + "&b=2"))
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, query.statusCode());
      assertEquals("/echo/q?a=1&b=2", query.headers().firstValue("x-echo-uri").orElseThrow());
      // two Authorization headers: which one would count is ambiguous, so neither does
      HttpResponse<String> two = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
          HttpRequest.newBuilder(proxy.uri("http", "/echo/a")).header("Authorization", "Bearer " + demo())
              .header("Authorization", "Bearer " + tampered).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(401, two.statusCode());
      assertEquals(200, get(proxy, "/optional/x", null).statusCode(), "allow_missing: no token is fine");
      assertEquals(401, get(proxy, "/optional/x", tampered).statusCode(), "allow_missing: a bad token is not");
      assertEquals(200, get(proxy, "/health", null).statusCode(), "the route turns the filter off");
      assertEquals(0, backend.requestsTo("/echo/a") - 1, "only the valid request reached the backend");
    }
  }

  @Test
  void remoteJwksAreFetchedThroughTheClusterOnce() throws Exception {
    AtomicInteger fetches = new AtomicInteger();
    String keys = jwks();
    try (ScriptedBackend jwksServer = ScriptedBackend.start(req -> {
          fetches.incrementAndGet();
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
              Unpooled.copiedBuffer(keys, StandardCharsets.UTF_8));
          r.headers().set("content-length", r.content().readableBytes());
          return r;
        });
        TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), bootstrap(
            "remote_jwks: {http_uri: {uri: \"http://jwks.example/keys.json\", cluster: jwks, timeout: 2s}, "
                + "cache_duration: 300s}", """
              - name: jwks
                type: STATIC
                load_assignment: {cluster_name: jwks, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${JWKS}}}}}]}]}
            """), Map.of("PORT", backend.port(), "JWKS", jwksServer.port()))) {
      for (int i = 0; i < 3; i++) {
        assertEquals(200, get(proxy, "/echo/r", demo()).statusCode());
      }
      assertEquals(401, get(proxy, "/echo/r", "a.b.c").statusCode());
      assertEquals(1, fetches.get(), "fetched once, then cached");
    }
  }

  /**
   * Verified tokens are remembered, never trusted blindly: a token that expires between two requests is refused on the
   * second, and once the cached JWKS has expired and the refetched set lacks the signing key, a remembered token is
   * verified again against the new set and refused.
   */
  @Test
  void rememberedTokensAreCheckedAgain() throws Exception {
    RSAKey sample = sampleKey();
    RSAKey other = new RSAKeyGenerator(2048).keyID("other").generate();
    AtomicInteger fetches = new AtomicInteger();
    String sampleSet = jwks();
    String otherSet = new com.nimbusds.jose.jwk.JWKSet(other.toPublicJWK()).toString();
    try (ScriptedBackend jwksServer = ScriptedBackend.start(req -> {
          String body = fetches.incrementAndGet() == 1 ? sampleSet : otherSet;
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
              Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
          r.headers().set("content-length", r.content().readableBytes());
          return r;
        });
        TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), bootstrap(
            "remote_jwks: {http_uri: {uri: \"http://jwks.example/keys.json\", cluster: jwks, timeout: 2s}, "
                + "cache_duration: 4s}\n                  clock_skew_seconds: 1", """
              - name: jwks
                type: STATIC
                load_assignment: {cluster_name: jwks, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${JWKS}}}}}]}]}
            """), Map.of("PORT", backend.port(), "JWKS", jwksServer.port()))) {
      SignedJWT shortLived = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(sample.getKeyID())
          .build(), new JWTClaimsSet.Builder().issuer(ISSUER).subject("brief")
          .expirationTime(new Date(System.currentTimeMillis() + 1_000)).build());
      shortLived.sign(new RSASSASigner(sample));
      long fetched = System.nanoTime();
      for (int i = 0; i < 3; i++) {
        assertEquals(200, get(proxy, "/echo/r", shortLived.serialize()).statusCode());
        assertEquals(200, get(proxy, "/echo/r", demo()).statusCode());
      }
      Thread.sleep(2_500); // past exp + clock_skew_seconds, within cache_duration
      assertEquals(401, get(proxy, "/echo/r", shortLived.serialize()).statusCode(), "expired since it was verified");
      assertEquals(1, fetches.get());

      Thread.sleep(Math.max(0, 4_500 - (System.nanoTime() - fetched) / 1_000_000)); // the keys' cache_duration over
      assertEquals(401, get(proxy, "/echo/r", demo()).statusCode(), "its key left the set: verified again, refused");
      assertEquals(2, fetches.get());
      SignedJWT byOther = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("other").build(),
          new JWTClaimsSet.Builder().issuer(ISSUER).subject("rotated").build());
      byOther.sign(new RSASSASigner(other));
      assertEquals(200, get(proxy, "/echo/r", byOther.serialize()).statusCode(), "the new key verifies");
    }
  }

  /**
   * provider_and_audiences: a route may ask the same provider for other audiences (a token for one audience passes
   * there and not elsewhere, and the other way round). filter_state_rules: when no rule matches, a filter state value
   * (here the downstream peer's exchange header, which istio.metadata_exchange keeps) names the requirement.
   */
  @Test
  void audiencesPerRequirementAndFilterStateRules() throws Exception {
    String inline = "{inline_string: \"" + jwks().replace("\\", "\\\\").replace("\"", "\\\"")
        .replace("\n", "\\n") + "\"}";
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: istio.metadata_exchange
                    typed_config: {"@type": type.googleapis.com/io.istio.http.peer_metadata.Config, downstream_discovery: [{istio_headers: {}}]}
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      providers:
                        istio: {issuer: testing@secure.istio.io, audiences: [orders], local_jwks: @JWKS@}
                      rules:
                      - match: {prefix: "/billing"}
                        requires: {provider_and_audiences: {provider_name: istio, audiences: [billing]}}
                      - match: {prefix: "/orders"}
                        requires: {provider_name: istio}
                      filter_state_rules:
                        name: downstream_peer
                        requires: {gateway: {provider_name: istio}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("@JWKS@", inline);
    RSAKey key = sampleKey();
    java.util.function.Function<String, String> token = aud -> {
      try {
        SignedJWT t = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
            new JWTClaimsSet.Builder().issuer(ISSUER).audience(aud).build());
        t.sign(new RSASSASigner(key));
        return t.serialize();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    };
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", backend.port()))) {
      assertEquals(200, get(proxy, "/billing/1", token.apply("billing")).statusCode());
      assertEquals(403, get(proxy, "/orders/1", token.apply("billing")).statusCode(), "not the provider's audience");
      assertEquals(200, get(proxy, "/orders/1", token.apply("orders")).statusCode());
      assertEquals(403, get(proxy, "/billing/1", token.apply("orders")).statusCode(), "not this route's audience");
      // no rule matches /other: without the filter state no JWT is needed, with it the state's requirement applies
      assertEquals(200, get(proxy, "/other", null).statusCode());
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      assertEquals(401, http.send(HttpRequest.newBuilder(proxy.uri("http", "/other"))
          .header("x-envoy-peer-metadata", "gateway").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(200, http.send(HttpRequest.newBuilder(proxy.uri("http", "/other"))
          .header("x-envoy-peer-metadata", "gateway").header("Authorization", "Bearer " + token.apply("orders"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }
}
