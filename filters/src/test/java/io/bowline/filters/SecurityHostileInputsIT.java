package io.bowline.filters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.ScriptedBackend;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.TestCerts;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.math.BigInteger;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ../shared/HOSTILE-INPUTS.md's TLS and JWT rows against a real proxy, each with the answer written there and nothing
 * reaching the upstream for what is refused: TLS-01 (no client certificate), TLS-02 (untrusted CA, expired),
 * TLS-03 (wrong SPIFFE id under a SAN matcher), TLS-07 (no clientAuth EKU), TLS-11 (plaintext on the TLS port; the
 * JDK's own client no longer offers TLS 1.0/1.1, so that half is left to tls_params' unit tests); JWT-03 (ES256 with r = s = 0), JWT-09 (claims nested 10 000 deep), JWT-10 (a 128 KiB token), JWT-14 (the
 * JWKS answering 500: 401, other routes unaffected).
 */
@ExtendWith(LeakGuard.class)
class SecurityHostileInputsIT {
  private static final String TLS_LISTENER = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        listeners:
        - name: mtls
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                require_client_certificate: true
                common_tls_context:
                  tls_params: {tls_minimum_protocol_version: TLSv1_2}
                  tls_certificates: [{certificate_chain: {inline_string: ${CERT}}, private_key: {inline_string: ${KEY}}}]
                  validation_context:
                    trusted_ca: {inline_string: ${CA}}
                    match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/ns/default/"}}]
            filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: in
                route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        clusters:
        - name: backend
          type: STATIC
          load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
      """;

  /** A self-signed certificate and key: SPIFFE URI SAN, validity, and extended key usages as given. */
  record Cert(X509Certificate cert, java.security.PrivateKey key) {
    String pem() throws Exception {
      return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
          cert.getEncoded()) + "\n-----END CERTIFICATE-----\n";
    }
  }

  /** A client context presenting {@code me} (none when null) and trusting {@code trusted}. */
  static SSLContext context(@org.jspecify.annotations.Nullable Cert me, X509Certificate trusted, String protocol)
      throws Exception {
    KeyManagerFactory kmf = null;
    if (me != null) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("me", me.key(), new char[0], new java.security.cert.Certificate[] {me.cert()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
    }
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("server", trusted);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext c = SSLContext.getInstance(protocol);
    c.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return c;
  }

  static Cert cert(String uri, long fromMs, long toMs, KeyPurposeId... ekus) throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
    kpg.initialize(256);
    KeyPair kp = kpg.generateKeyPair();
    X500Name name = new X500Name("CN=" + uri.substring(uri.lastIndexOf('/') + 1) + ",O=hostile");
    long now = System.currentTimeMillis();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()),
        new Date(now + fromMs), new Date(now + toMs), name, kp.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
        new GeneralName(GeneralName.uniformResourceIdentifier, uri)}));
    if (ekus.length > 0) {
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(ekus));
    }
    return new Cert(new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))), kp.getPrivate());
  }

  /** The HTTP status line's code, or -1 when the connection was refused or closed without an answer. */
  static int get(int port, @org.jspecify.annotations.Nullable Cert client, X509Certificate server, String protocol) {
    try (SSLSocket s = (SSLSocket) context(client, server, protocol).getSocketFactory().createSocket("127.0.0.1",
        port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET /echo/t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      String r = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return r.length() < 12 ? -1 : Integer.parseInt(r.substring(9, 12));
    } catch (Exception e) {
      return -1; // handshake alert or reset
    }
  }

  @Test
  void tlsRowsAreRefusedBeforeAnyHttp() throws Exception {
    long day = 86_400_000L;
    Cert server = cert("spiffe://cluster.local/ns/default/sa/httpbin", -60_000, day, KeyPurposeId.id_kp_serverAuth);
    Cert good = cert("spiffe://cluster.local/ns/default/sa/sleep", -60_000, day, KeyPurposeId.id_kp_clientAuth);
    Cert expired = cert("spiffe://cluster.local/ns/default/sa/old", -2 * day, -day, KeyPurposeId.id_kp_clientAuth);
    Cert otherNs = cert("spiffe://cluster.local/ns/evil/sa/sleep", -60_000, day, KeyPurposeId.id_kp_clientAuth);
    Cert serverOnly = cert("spiffe://cluster.local/ns/default/sa/web", -60_000, day, KeyPurposeId.id_kp_serverAuth);
    Cert untrusted = cert("spiffe://cluster.local/ns/default/sa/sleep", -60_000, day, KeyPurposeId.id_kp_clientAuth);
    String trusted = good.pem() + expired.pem() + otherNs.pem() + serverOnly.pem();
    try (TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), TLS_LISTENER, Map.of("PORT",
            backend.port(), "CERT", TestCerts.Pem.yaml(server.pem()), "KEY", TestCerts.Pem.yaml(
                "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
                    server.key().getEncoded()) + "\n-----END PRIVATE KEY-----\n"), "CA",
            TestCerts.Pem.yaml(trusted)))) {
      int port = proxy.port("mtls");
      assertEquals(200, get(port, good, server.cert(), "TLSv1.3"), "the good client");
      assertEquals(-1, get(port, null, server.cert(), "TLSv1.3"), "TLS-01: no client certificate");
      assertEquals(-1, get(port, untrusted, server.cert(), "TLSv1.3"), "TLS-02: untrusted CA");
      assertEquals(-1, get(port, expired, server.cert(), "TLSv1.3"), "TLS-02: expired");
      assertEquals(-1, get(port, otherNs, server.cert(), "TLSv1.3"), "TLS-03: a SPIFFE id the matcher refuses");
      assertEquals(-1, get(port, serverOnly, server.cert(), "TLSv1.3"), "TLS-07: no clientAuth EKU");
      // TLS-12: a thousand half-open handshakes (a partial ClientHello each) do not keep a good client out
      java.util.List<Socket> halfOpen = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 1000; i++) {
          Socket h = new Socket("127.0.0.1", port);
          h.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a record header, no more
          halfOpen.add(h);
        }
        long t0 = System.nanoTime();
        assertEquals(200, get(port, good, server.cert(), "TLSv1.3"), "TLS-12: still served");
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 3000, "TLS-12: promptly");
      } finally {
        for (Socket h : halfOpen) {
          h.close();
        }
      }
      try (Socket plain = new Socket("127.0.0.1", port)) {
        plain.setSoTimeout(5000);
        plain.getOutputStream().write("GET /echo/p HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] answer = plain.getInputStream().readAllBytes();
        assertTrue(answer.length == 0 || !new String(answer, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 2"),
            "TLS-11: plaintext on the TLS port is never served");
      } catch (java.net.SocketException e) {
        // reset: also a refusal
      }
      assertEquals(200, get(port, good, server.cert(), "TLSv1.3"), "the proxy still serves the good client");
      assertEquals(3, backend.requestsTo("/echo"), "only the good client's requests reached the backend");
    }
  }

  private static final String JWT_LISTENER = """
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
                      local:
                        issuer: hostile
                        local_jwks: {inline_string: ${JWKS}}
                      remote:
                        issuer: broken
                        remote_jwks: {http_uri: {uri: "http://jwks/keys", cluster: jwks, timeout: 1s}, cache_duration: 60s}
                    rules:
                    - match: {prefix: "/remote"}
                      requires: {provider_name: remote}
                    - match: {prefix: "/"}
                      requires: {provider_name: local}
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        clusters:
        - name: backend
          type: STATIC
          load_assignment: {cluster_name: backend, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        - name: jwks
          type: STATIC
          load_assignment: {cluster_name: jwks, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${JWKSPORT}}}}}]}]}
      """;

  static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void jwtRowsAreRefusedWithoutReachingTheUpstream() throws Exception {
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
    String jwks = new JWKSet(java.util.List.of(ec.toPublicJWK(), rsa.toPublicJWK())).toString();
    try (ScriptedBackend broken = ScriptedBackend.start(req -> {
          var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR,
              Unpooled.copiedBuffer("oops", StandardCharsets.UTF_8));
          r.headers().set("content-length", 4);
          return r;
        });
        TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), JWT_LISTENER, Map.of("PORT",
            backend.port(), "JWKS", "\"" + jwks.replace("\"", "\\\"") + "\"", "JWKSPORT", broken.port()))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      java.util.function.BiFunction<String, String, Integer> send = (path, token) -> {
        try {
          return http.send(HttpRequest.newBuilder(proxy.uri("http", path)).header("Authorization", "Bearer " + token)
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      };
      String claims = "{\"iss\":\"hostile\",\"sub\":\"x\"}";
      com.nimbusds.jose.JWSObject good = new com.nimbusds.jose.JWSObject(new JWSHeader.Builder(JWSAlgorithm.RS256)
          .keyID("rsa").build(), new com.nimbusds.jose.Payload(claims));
      good.sign(new RSASSASigner(rsa));
      assertEquals(200, send.apply("/echo/ok", good.serialize()), "a good token passes");

      // JWT-03: ES256 with r = s = 0, the "psychic signature" (CVE-2022-21449)
      String psychic = b64("{\"alg\":\"ES256\",\"kid\":\"ec\"}") + "." + b64(claims) + "."
          + Base64URL.encode(new byte[64]);
      assertEquals(401, send.apply("/echo/jwt03", psychic), "JWT-03");

      // JWT-09: a correctly signed token whose claims nest 10 000 deep
      String deep = "{\"iss\":\"hostile\",\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}";
      com.nimbusds.jose.JWSObject nested = new com.nimbusds.jose.JWSObject(new JWSHeader.Builder(JWSAlgorithm.RS256)
          .keyID("rsa").build(), new com.nimbusds.jose.Payload(deep));
      nested.sign(new RSASSASigner(rsa));
      int n = send.apply("/echo/jwt09", nested.serialize());
      assertEquals(401, n, "JWT-09");

      // JWT-10: a 128 KiB token meets the header limit before any parsing
      assertEquals(431, send.apply("/echo/jwt10", "a".repeat(128 * 1024)), "JWT-10");

      // JWT-14: the JWKS answers 500: fail closed on its routes, others unaffected
      com.nimbusds.jose.JWSObject remote = new com.nimbusds.jose.JWSObject(new JWSHeader.Builder(JWSAlgorithm.RS256)
          .keyID("rsa").build(), new com.nimbusds.jose.Payload("{\"iss\":\"broken\"}"));
      remote.sign(new RSASSASigner(rsa));
      assertEquals(401, send.apply("/remote/x", remote.serialize()), "JWT-14");
      assertEquals(200, send.apply("/echo/after", good.serialize()), "JWT-14: other routes unaffected");
      assertEquals(200, http.send(HttpRequest.newBuilder(proxy.uri("http", "/health")).timeout(Duration.ofSeconds(10))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode());
      assertEquals(2, backend.requestsTo("/echo"), "only the good tokens' requests reached the backend");
      assertEquals(0, backend.requestsTo("/remote"));
    }
  }

  /**
   * JWT-15: a JWKS server that takes 10 s. The request waiting for keys is answered within the http_uri timeout (1 s)
   * with 401, and while it waits the event loop serves other routes at once.
   */
  @Test
  void aSlowJwksCostsOnlyItsTimeout() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
    try (ScriptedBackend slow = ScriptedBackend.start(req -> {
          try {
            Thread.sleep(10_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
              Unpooled.copiedBuffer("{\"keys\":[]}", StandardCharsets.UTF_8));
          r.headers().set("content-length", r.content().readableBytes());
          return r;
        });
        TestBackend backend = TestBackend.start();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), JWT_LISTENER, Map.of("PORT",
            backend.port(), "JWKS", "\"{\\\"keys\\\":[]}\"", "JWKSPORT", slow.port()), "--concurrency", "1")) {
      com.nimbusds.jose.JWSObject remote = new com.nimbusds.jose.JWSObject(new JWSHeader.Builder(JWSAlgorithm.RS256)
          .keyID("rsa").build(), new com.nimbusds.jose.Payload("{\"iss\":\"broken\"}"));
      remote.sign(new RSASSASigner(rsa));
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      long t0 = System.nanoTime();
      var waiting = http.sendAsync(HttpRequest.newBuilder(proxy.uri("http", "/remote/x"))
          .header("Authorization", "Bearer " + remote.serialize()).timeout(Duration.ofSeconds(15)).build(),
          HttpResponse.BodyHandlers.discarding());
      Thread.sleep(200); // the fetch is under way
      long t1 = System.nanoTime();
      assertEquals(200, http.send(HttpRequest.newBuilder(proxy.uri("http", "/health")).timeout(Duration.ofSeconds(5))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode());
      long otherMs = (System.nanoTime() - t1) / 1_000_000;
      assertTrue(otherMs < 500, "the event loop is not blocked: " + otherMs + " ms");
      assertEquals(401, waiting.get().statusCode());
      long waitedMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(waitedMs < 5_000, "bounded by the 1 s fetch timeout, not the server's 10 s: " + waitedMs + " ms");
    }
  }
}
