package io.bowline.filters.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.filters.BuiltinFilters;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * "A can GET /foo only with a valid end-user token carrying the READ scope": jwt_authn puts the verified payload in
 * dynamic metadata (payload_in_metadata, scope split by normalize_payload_in_metadata) and RBAC's metadata principal
 * requires the scope — a token without it, or with it only in an unverified token, gets 403 or 401.
 */
@ExtendWith(LeakGuard.class)
class JwtClaimsRbacIT {
  @Test
  void theScopeInTheVerifiedTokenDecides() throws Exception {
    String jwks = java.nio.file.Files.readString(JwtAuthnIT.SAMPLES.resolve("jwks.json"));
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
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                  http_filters:
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      providers:
                        istio:
                          issuer: testing@secure.istio.io
                          local_jwks: {inline_string: "@JWKS@"}
                          payload_in_metadata: testing@secure.istio.io
                          normalize_payload_in_metadata: {space_delimited_claims: [scope]}
                      rules: [{match: {prefix: "/"}, requires: {requires_any: {requirements: [{provider_name: istio}, {allow_missing_or_failed: {}}]}}}]
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        policies:
                          read-scope:
                            permissions: [{and_rules: {rules: [{header: {name: ":method", string_match: {exact: GET}}}, {url_path: {path: {prefix: /foo}}}]}}]
                            principals: [{metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: testing@secure.istio.io}, {key: scope}], value: {list_match: {one_of: {string_match: {exact: READ}}}}}}]
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: backend
            type: STATIC
            load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("@JWKS@", jwks.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"));
    RSAKey key = com.nimbusds.jose.jwk.JWK.parseFromPEMEncodedObjects(java.nio.file.Files.readString(
        JwtAuthnIT.SAMPLES.resolve("key.pem"))).toRSAKey();
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", backend.port()))) {
      assertEquals(200, status(proxy, "/foo/1", token(key, "READ WRITE")));
      assertEquals(403, status(proxy, "/foo/1", token(key, "WRITE")), "verified, but without READ");
      assertEquals(403, status(proxy, "/foo/1", null), "no token: allowed by jwt_authn, refused by RBAC");
      assertEquals(403, status(proxy, "/foo/1", forged("READ")), "READ only in an unverified token");
      assertEquals(403, status(proxy, "/bar", token(key, "READ")), "READ is for /foo");
    }
  }

  private static String token(RSAKey key, String scope) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
        new JWTClaimsSet.Builder().issuer("testing@secure.istio.io").subject("alice").claim("scope", scope)
            .expirationTime(new Date(System.currentTimeMillis() + 600_000)).build());
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static String forged(String scope) throws Exception {
    RSAKey other = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).generate();
    return token(other, scope);
  }

  private static int status(ProxyHarness proxy, String path, String token) throws Exception {
    var b = java.net.http.HttpRequest.newBuilder(proxy.uri("http", path))
        .timeout(java.time.Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()
        .send(b.build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
