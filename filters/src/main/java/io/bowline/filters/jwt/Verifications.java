package io.bowline.filters.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * One provider's memory of its work: the verifier made from each key (converting a JWK to a public key is not free),
 * and the tokens it verified, per event loop and least recently used first out ({@code jwt_cache_config}: 100 tokens
 * of at most 4096 bytes unless configured). A remembered token stands only for the key set it was verified against,
 * so a JWKS refresh re-verifies; failures are never remembered, and the caller checks the token's times again on
 * every use. Envoy caches only when {@code jwt_cache_config} is set; here it is always on, since it changes no answer
 * and an RSA verification per request costs more than the rest of the proxy's work on it.
 */
final class Verifications {
  static final int DEFAULT_SIZE = 100;
  static final int DEFAULT_MAX_TOKEN_BYTES = 4096;

  private record Entry(JWKSet keys, JwtProvider.Verified verified) {}

  private final int size;
  private final int maxTokenBytes;
  private final Map<JWK, Optional<JWSVerifier>> verifiers = new ConcurrentHashMap<>();
  private final FastThreadLocal<LinkedHashMap<String, Entry>> tokens = new FastThreadLocal<>() {
    @Override
    protected LinkedHashMap<String, Entry> initialValue() {
      return new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
          return size() > size;
        }
      };
    }
  };

  Verifications(int size, int maxTokenBytes) {
    this.size = size;
    this.maxTokenBytes = maxTokenBytes;
  }

  /** A fresh memory with this one's limits. */
  Verifications sameSize() {
    return new Verifications(size, maxTokenBytes);
  }

  static Verifications defaults() {
    return new Verifications(DEFAULT_SIZE, DEFAULT_MAX_TOKEN_BYTES);
  }

  /** The verifier for {@code key} when its type may verify {@code alg}. */
  @Nullable JWSVerifier verifier(JWK key, JWSAlgorithm alg) {
    if (verifiers.size() > 256) {
      verifiers.clear(); // keys rotated many times over: keep the ones in use
    }
    JWSVerifier v = verifiers.computeIfAbsent(key, k -> Optional.ofNullable(anyVerifier(k))).orElse(null);
    return v != null && v.supportedJWSAlgorithms().contains(alg) ? v : null;
  }

  private static @Nullable JWSVerifier anyVerifier(JWK key) {
    for (JWSAlgorithm alg : new JWSAlgorithm[] {JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.EdDSA,
        JWSAlgorithm.HS256}) {
      JWSVerifier v = JwtProvider.verifier(key, alg);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  /** This token as verified before against exactly {@code keys}, or null. */
  JwtProvider.@Nullable Verified known(String token, JWKSet keys) {
    if (size == 0) {
      return null;
    }
    Entry e = tokens.get().get(token);
    return e != null && e.keys() == keys ? e.verified() : null;
  }

  void remember(String token, JWKSet keys, JwtProvider.Verified v) {
    if (size > 0 && token.length() <= maxTokenBytes) {
      tokens.get().put(token, new Entry(keys, v));
    }
  }

  void forget(String token) {
    tokens.get().remove(token);
  }
}
