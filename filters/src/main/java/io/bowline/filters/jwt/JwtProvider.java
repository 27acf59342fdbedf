package io.bowline.filters.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One {@code JwtProvider}, compiled: where its token is looked for, what it must say (issuer, audiences, times within
 * {@code clock_skew_seconds}), the keys it is checked against, and what a verified token leaves on the request. The
 * algorithm comes from the key, never from the token: {@code none} is no JWS at all, an RSA or EC key verifies only
 * its own family, a shared secret only HMAC, and keys a token carries (jwk, jku, x5u, x5c) are never used.
 */
record JwtProvider(String name, @Nullable String issuer, Set<String> audiences, JwksSource keys,
    List<FromHeader> fromHeaders, List<String> fromParams, List<String> fromCookies, boolean forward,
    @Nullable String forwardPayloadHeader, boolean padPayload, List<ClaimToHeader> claimToHeaders, long clockSkewSeconds,
    @Nullable String payloadInMetadata, Set<String> spaceDelimitedClaims, Verifications verifications) {

  /**
   * This provider with other audiences ({@code provider_and_audiences}): the same keys and locations, its own memory
   * of verified tokens (a token remembered under one audience list says nothing about another).
   */
  JwtProvider withAudiences(Set<String> other) {
    return new JwtProvider(name, issuer, other, keys, fromHeaders, fromParams, fromCookies, forward,
        forwardPayloadHeader, padPayload, claimToHeaders, clockSkewSeconds, payloadInMetadata, spaceDelimitedClaims,
        verifications.sameSize());
  }

  /** {@code from_headers} entry: the header and the prefix before the token ({@code Bearer }). */
  record FromHeader(String name, String prefix) {}

  /** {@code claim_to_headers} entry. */
  record ClaimToHeader(String header, String claim) {}

  /**
   * Where a token was found, so a forward: false can take it out: a header, or a query parameter ({@code param}).
   * {@code ambiguous}: the location held more than one token (two Authorization headers), which is refused.
   */
  record Found(String token, @Nullable FromHeader header, @Nullable String param, boolean ambiguous) {}

  /** A verification's outcome. */
  enum Status { OK, MISSING, FAILED, AUDIENCE }

  /** The first token in this provider's locations (Envoy's default: Authorization: Bearer, access_token param). */
  @Nullable Found find(HttpHeaders h, String uri) {
    for (FromHeader f : fromHeaders) {
      List<String> all = h.getAll(f.name());
      for (String v : all) {
        if (v.regionMatches(true, 0, f.prefix(), 0, f.prefix().length())) {
          String t = v.substring(f.prefix().length()).trim();
          if (!t.isEmpty()) {
            return new Found(t, f, null, all.size() > 1);
          }
        }
      }
    }
    if (!fromParams.isEmpty() && uri.indexOf('?') >= 0) {
      var params = new QueryStringDecoder(uri).parameters();
      for (String p : fromParams) {
        List<String> v = params.get(p);
        if (v != null && !v.isEmpty() && !v.get(0).isEmpty()) {
          return new Found(v.get(0), null, p, v.size() > 1);
        }
      }
    }
    if (!fromCookies.isEmpty()) {
      String cookie = h.get("cookie");
      if (cookie != null) {
        for (var c : io.netty.handler.codec.http.cookie.ServerCookieDecoder.STRICT.decodeAll(cookie)) {
          if (fromCookies.contains(c.name()) && !c.value().isEmpty()) {
            return new Found(c.value(), null, null, false);
          }
        }
      }
    }
    return null;
  }

  /** The token's key id, when it is a JWS at all. */
  static @Nullable String kid(String token) {
    try {
      return SignedJWT.parse(token).getHeader().getKeyID();
    } catch (java.text.ParseException e) {
      return null;
    }
  }

  /**
   * Verified claims, or the reason it failed, against {@code keySet}. A token this provider verified before against
   * the same keys is taken from {@link Verifications} with only its times checked again, so the answer is the one a
   * fresh verification would give.
   */
  Verified verify(String token, @Nullable JWKSet keySet) {
    if (keySet == null) {
      return Verified.failed(Status.FAILED, "Jwks remote fetch is failed");
    }
    long now = System.currentTimeMillis();
    Verified known = verifications.known(token, keySet);
    if (known != null) {
      Verified late = times(known.claims(), now);
      if (late != null) {
        verifications.forget(token);
        return late;
      }
      return known;
    }
    Verified v = verifyFully(token, keySet, now);
    if (v.status() == Status.OK) {
      verifications.remember(token, keySet, v);
    }
    return v;
  }

  private Verified verifyFully(String token, JWKSet keySet, long now) {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (java.text.ParseException e) {
      return Verified.failed(Status.FAILED, "Jwt is not in the form of Header.Payload.Signature");
    }
    JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
    String kid = jwt.getHeader().getKeyID();
    boolean verified = false;
    for (JWK key : keySet.getKeys()) {
      if (kid != null && key.getKeyID() != null && !kid.equals(key.getKeyID())) {
        continue;
      }
      if (key.getAlgorithm() != null && !key.getAlgorithm().getName().equals(alg.getName())) {
        continue; // a key bound to an algorithm verifies that algorithm only
      }
      JWSVerifier v = verifications.verifier(key, alg);
      try {
        if (v != null && jwt.verify(v)) {
          verified = true;
          break;
        }
      } catch (JOSEException e) {
        // this key cannot verify this token: try the next
      }
    }
    if (!verified) {
      return Verified.failed(Status.FAILED, "Jwt verification fails");
    }
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (java.text.ParseException e) {
      return Verified.failed(Status.FAILED, "Jwt payload is not a JSON object");
    }
    Verified late = times(claims, now);
    if (late != null) {
      return late;
    }
    if (issuer != null && !issuer.equals(claims.getIssuer())) {
      return Verified.failed(Status.FAILED, "Jwt issuer is not configured");
    }
    if (!audiences.isEmpty() && (claims.getAudience() == null
        || claims.getAudience().stream().noneMatch(audiences::contains))) {
      return Verified.failed(Status.AUDIENCE, "Audiences in Jwt are not allowed");
    }
    return new Verified(Status.OK, null, jwt, claims);
  }

  /** exp, iat and nbf against {@code now} within the clock skew: null when the token is current. */
  private @Nullable Verified times(JWTClaimsSet claims, long now) {
    Date exp = claims.getExpirationTime();
    if (exp != null && exp.getTime() + clockSkewSeconds * 1000 < now) {
      return Verified.failed(Status.FAILED, "Jwt is expired");
    }
    Date iat = claims.getIssueTime();
    if (iat != null && iat.getTime() - clockSkewSeconds * 1000 > now) {
      return Verified.failed(Status.FAILED, "Jwt issued in the future");
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && nbf.getTime() - clockSkewSeconds * 1000 > now) {
      return Verified.failed(Status.FAILED, "Jwt not yet valid");
    }
    return null;
  }

  /** The verifier for {@code key} if it may verify {@code alg}: the key's type decides the family. */
  static @Nullable JWSVerifier verifier(JWK key, JWSAlgorithm alg) {
    try {
      if (key instanceof RSAKey rsa && JWSAlgorithm.Family.RSA.contains(alg)) {
        return new RSASSAVerifier(rsa);
      }
      if (key instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(alg)) {
        return new ECDSAVerifier(ec);
      }
      if (key instanceof OctetKeyPair okp && JWSAlgorithm.Family.ED.contains(alg)) {
        return new Ed25519Verifier(okp);
      }
      if (key instanceof OctetSequenceKey oct && JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
        return new MACVerifier(oct);
      }
    } catch (JOSEException e) {
      return null;
    }
    return null;
  }

  /**
   * A verification's result: the claims when OK, the reason otherwise. A verified one also keeps what the filter
   * derives from its claims (the payload as metadata), so a remembered token costs no JSON work either; it is only
   * ever used on the event loop whose {@link Verifications} holds it.
   */
  static final class Verified {
    private final Status status;
    private final @Nullable String reason;
    private final @Nullable SignedJWT jwt;
    private final @Nullable JWTClaimsSet claims;
    private com.google.protobuf.@Nullable Struct metadata;

    Verified(Status status, @Nullable String reason, @Nullable SignedJWT jwt, @Nullable JWTClaimsSet claims) {
      this.status = status;
      this.reason = reason;
      this.jwt = jwt;
      this.claims = claims;
    }

    static Verified failed(Status s, String reason) {
      return new Verified(s, reason, null, null);
    }

    Status status() {
      return status;
    }

    @Nullable String reason() {
      return reason;
    }

    SignedJWT jwt() {
      return java.util.Objects.requireNonNull(jwt);
    }

    JWTClaimsSet claims() {
      return java.util.Objects.requireNonNull(claims);
    }

    /** The dynamic metadata this token leaves, made once by {@code make}. */
    com.google.protobuf.Struct metadata(java.util.function.Supplier<com.google.protobuf.Struct> make) {
      if (metadata == null) {
        metadata = make.get();
      }
      return metadata;
    }
  }
}
