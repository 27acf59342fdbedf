package io.bowline.core.compile;

import io.bowline.core.config.ClusterConfig;
import io.bowline.core.config.FilterChainConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.config.TlsContextSource;
import io.bowline.xds.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The TLS contexts a listener or cluster uses, and the check that the secrets they name can arrive. */
public final class TlsSources {
  private TlsSources() {}

  public static List<TlsContextSource> of(ListenerConfig l) {
    List<TlsContextSource> out = new ArrayList<>();
    for (FilterChainConfig c : l.filterChains()) {
      if (c.tls() != null) {
        out.add(c.tls());
      }
    }
    return out;
  }

  public static List<TlsContextSource> of(ClusterConfig c) {
    if (c.socketMatches().isEmpty()) {
      return c.tls() == null ? List.of() : List.of(c.tls());
    }
    List<TlsContextSource> out = new ArrayList<>();
    if (c.tls() != null) {
      out.add(c.tls());
    }
    for (var m : c.socketMatches()) {
      if (m.tls() != null) {
        out.add(m.tls());
      }
    }
    return out;
  }

  /** True when every TLS context is built (its SDS secrets have arrived). */
  public static boolean ready(List<TlsContextSource> sources) {
    for (TlsContextSource s : sources) {
      if (!s.isReady()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Checks that each secret named can be had (a static one exists; SDS needs dynamic_resources) and registers the
   * contexts with the secret store, which builds them when their secrets are there.
   */
  public static void register(List<TlsContextSource> sources, String path, CompileContext ctx,
      Set<String> staticSecrets) throws ConfigException {
    for (TlsContextSource s : sources) {
      for (TlsContextSource.SecretRef r : s.refs()) {
        if (r.kind() == TlsContextSource.SecretRef.Kind.STATIC && !staticSecrets.contains(r.name())) {
          throw new ConfigException(path, "no static secret named '" + r.name() + "' (and no sds_config to fetch it)");
        }
        if (r.kind() != TlsContextSource.SecretRef.Kind.STATIC && !ctx.adsAvailable()) {
          throw new ConfigException(path, "secret '" + r.name() + "' comes from SDS, which needs "
              + "dynamic_resources.ads_config in the bootstrap");
        }
      }
      ctx.secrets().register(s);
    }
  }
}
