package io.bowline.core.config;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A TLS context that may depend on SDS secrets. Without secret references it is fixed at compile time. With them,
 * it is built (and rebuilt on every rotation) once each secret it names has arrived: new handshakes use the newest
 * context, connections already open keep theirs. Until then {@link #current} is null and the listener or cluster
 * using it warms.
 */
public final class TlsContextSource {
  /**
   * Builds the SslContext from the secrets this source names (by name); throws on an unusable secret. An upstream
   * context may be asked for other ALPN protocols than its own ({@code alpnOverride}, Istio's istio.alpn filter).
   */
  public interface Builder {
    SslContext build(Map<String, Secret> secrets, @Nullable List<String> alpnOverride) throws Exception;
  }

  /**
   * A context's certificate chain and trusted CAs as PEM, each with where it came from (a file's path, or
   * {@code <inline>}), for the admin's {@code /certs}; null parts where the context has none.
   */
  public record Pems(@Nullable String chainPath, byte @Nullable [] chain, @Nullable String caPath,
      byte @Nullable [] ca) {}

  /** Reads a context's PEMs from the secrets it was last built with. */
  public interface PemSource {
    Pems pems(Map<String, Secret> secrets) throws Exception;
  }

  /** A context offering other ALPN protocols, valid while {@code base} is the current context. */
  private record Variant(SslContext base, SslContext context) {}

  /** Where a secret comes from: the bootstrap's static secrets, the ADS stream, or an SDS stream to a cluster. */
  public record SecretRef(String name, Kind kind, @Nullable String cluster) {
    public enum Kind { STATIC, ADS, SDS_CLUSTER }
  }

  private final List<SecretRef> refs;
  private final List<String> secretNames;
  private final @Nullable Builder builder;
  private final String sni;
  private final boolean autoSni;
  private volatile @Nullable SslContext current;
  private volatile @Nullable String error;
  private volatile Map<String, Secret> lastSecrets = Map.of();
  private final java.util.concurrent.ConcurrentHashMap<List<String>, Variant> variants =
      new java.util.concurrent.ConcurrentHashMap<>(4);
  private volatile @Nullable PemSource pems;

  private TlsContextSource(List<SecretRef> refs, @Nullable Builder builder, @Nullable SslContext fixed,
      String sni, boolean autoSni) {
    this.refs = List.copyOf(refs);
    this.secretNames = refs.stream().map(SecretRef::name).distinct().toList();
    this.builder = builder;
    this.current = fixed;
    this.sni = sni;
    this.autoSni = autoSni;
  }

  public static TlsContextSource fixed(SslContext context) {
    return new TlsContextSource(List.of(), null, context, "", false);
  }

  public static TlsContextSource fixed(SslContext context, String sni, boolean autoSni) {
    return new TlsContextSource(List.of(), null, context, sni, autoSni);
  }

  /** A context with no secrets to wait for, built now; its builder stays for ALPN variants. */
  public static TlsContextSource built(Builder builder, String sni, boolean autoSni) throws Exception {
    return new TlsContextSource(List.of(), builder, builder.build(Map.of(), null), sni, autoSni);
  }

  public static TlsContextSource fromSecrets(List<SecretRef> refs, Builder builder, String sni, boolean autoSni) {
    return new TlsContextSource(refs, builder, null, sni, autoSni);
  }

  /** Says where this context's certificates come from, for {@link #pems()}; set once, by its compiler. */
  public TlsContextSource describedBy(PemSource source) {
    this.pems = source;
    return this;
  }

  /**
   * The certificate chain and trusted CAs this context was last built from, or null when it has not been built (a
   * secret it needs has not arrived) or cannot say.
   */
  public @Nullable Pems pems() {
    PemSource p = pems;
    if (p == null || current == null) {
      return null;
    }
    try {
      return p.pems(lastSecrets);
    } catch (Exception e) {
      return null; // built from these very secrets: not expected
    }
  }

  public List<SecretRef> refs() {
    return refs;
  }

  /** The context for a new handshake, or null while a secret it needs has not arrived. */
  public @Nullable SslContext current() {
    return current;
  }

  /**
   * The context for a new handshake offering {@code alpn} instead of the configured protocols (null: the current
   * context as it is). Built once per protocol list and secret generation; null while secrets are missing.
   */
  public @Nullable SslContext current(@Nullable List<String> alpn) {
    SslContext base = current;
    if (alpn == null || base == null || builder == null) {
      return base;
    }
    Variant v = variants.get(alpn);
    if (v == null || v.base() != base) {
      try {
        v = new Variant(base, builder.build(lastSecrets, alpn));
      } catch (Exception e) {
        return base; // the secrets built the base context moments ago; keep its protocols rather than fail
      }
      variants.put(alpn, v);
    }
    return v.context();
  }

  public boolean isReady() {
    return current != null;
  }

  /** The SDS secret names this context is built from (empty when fixed). */
  public List<String> secretNames() {
    return secretNames;
  }

  public String sni() {
    return sni;
  }

  public boolean autoSni() {
    return autoSni;
  }

  /** Why the last build from secrets failed, if it did. */
  public @Nullable String error() {
    return error;
  }

  /** The error building from {@code secrets} would give (null: it would build, or a secret is still missing). */
  public @Nullable String tryBuild(Map<String, Secret> secrets) {
    if (builder == null) {
      return null;
    }
    for (String name : secretNames) {
      if (!secrets.containsKey(name)) {
        return null;
      }
    }
    try {
      builder.build(secrets, null);
      return null;
    } catch (Exception e) {
      return e.getMessage();
    }
  }

  /**
   * Rebuilds from {@code secrets} when every secret named is there; the previous context stays on failure (a bad
   * rotation must not take TLS down). Returns whether a new context was published.
   */
  public boolean rebuild(Map<String, Secret> secrets) {
    if (builder == null) {
      return false;
    }
    for (String name : secretNames) {
      if (!secrets.containsKey(name)) {
        return false;
      }
    }
    try {
      current = builder.build(secrets, null);
      lastSecrets = Map.copyOf(secrets);
      error = null;
      return true;
    } catch (Exception e) {
      error = e.getMessage();
      return false;
    }
  }
}
