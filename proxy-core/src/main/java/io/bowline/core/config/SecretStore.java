package io.bowline.core.config;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The TLS secrets in force (from {@code static_resources.secrets} and SDS) and the TLS contexts built from them.
 * A new version of a secret rebuilds every context that names it. Updates come from one control thread.
 */
public final class SecretStore {
  private volatile Map<String, Secret> secrets = Map.of();
  private Map<String, Secret> staticSecrets = Map.of();
  private Map<String, Secret> dynamicSecrets = Map.of();
  private final List<TlsContextSource> sources = new CopyOnWriteArrayList<>();

  /** Registers a context; it is built at once if its secrets are already here. */
  public void register(TlsContextSource source) {
    if (source.secretNames().isEmpty()) {
      return;
    }
    sources.add(source);
    source.rebuild(secrets);
  }

  /** Forgets contexts no longer used by any listener or cluster. */
  public void retainOnly(Set<TlsContextSource> live) {
    sources.removeIf(s -> !live.contains(s));
  }

  /** The secret names some registered context needs. */
  public Set<String> wanted() {
    Set<String> names = new java.util.HashSet<>();
    for (TlsContextSource s : sources) {
      names.addAll(s.secretNames());
    }
    return names;
  }

  public Map<String, Secret> secrets() {
    return secrets;
  }

  /** The bootstrap's {@code static_resources.secrets}. */
  public synchronized List<String> setStatic(Map<String, Secret> statics) {
    staticSecrets = Map.copyOf(statics);
    return apply(merged(dynamicSecrets));
  }

  /**
   * The errors building the contexts that use a changed secret would give with {@code dynamic} (SDS) secrets;
   * nothing changes. Empty means the update is safe to apply.
   */
  public synchronized List<String> check(Map<String, Secret> dynamic) {
    Map<String, Secret> next = merged(dynamic);
    List<String> errors = new ArrayList<>();
    for (TlsContextSource s : sources) {
      if (!changed(s, secrets, next)) {
        continue;
      }
      String e = s.tryBuild(next);
      if (e != null) {
        errors.add(e);
      }
    }
    return errors;
  }

  /** Replaces the SDS secrets and rebuilds the contexts whose secrets changed; returns build errors. */
  public synchronized List<String> update(Map<String, Secret> dynamic) {
    dynamicSecrets = Map.copyOf(dynamic);
    return apply(merged(dynamic));
  }

  private Map<String, Secret> merged(Map<String, Secret> dynamic) {
    Map<String, Secret> all = new HashMap<>(dynamic);
    all.putAll(staticSecrets);
    return all;
  }

  private static boolean changed(TlsContextSource s, Map<String, Secret> previous, Map<String, Secret> next) {
    boolean changed = !s.isReady();
    for (String name : s.secretNames()) {
      changed |= !java.util.Objects.equals(previous.get(name), next.get(name));
    }
    return changed;
  }

  private List<String> apply(Map<String, Secret> next) {
    Map<String, Secret> previous = secrets;
    secrets = Map.copyOf(next);
    List<String> errors = new ArrayList<>();
    for (TlsContextSource s : sources) {
      if (changed(s, previous, next) && !s.rebuild(secrets) && s.error() != null) {
        errors.add(s.error());
      }
    }
    return errors;
  }

  /** Static secrets by name, for a bootstrap's {@code static_resources.secrets}. */
  public static Map<String, Secret> byName(List<Secret> list) {
    Map<String, Secret> m = new HashMap<>();
    for (Secret s : list) {
      m.put(s.getName(), s);
    }
    return m;
  }
}
