package io.bowline.core.compile;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;

/** Envoy's {@code ConfigSource}: bowline fetches every dynamic resource over the one ADS stream. */
final class ConfigSources {
  private ConfigSources() {}

  /** The initial_fetch_timeout of a source (Envoy's default 15 s; 0 waits forever). */
  static long requireAds(ConfigSource s, String path) throws ConfigException {
    Fields.allow(s, path, "ads", "resource_api_version", "initial_fetch_timeout");
    if (!s.hasAds()) {
      throw new ConfigException(path, "only ads: {} config sources are supported by bowline (got "
          + s.getConfigSourceSpecifierCase() + ")");
    }
    if (s.getResourceApiVersion() != ApiVersion.AUTO && s.getResourceApiVersion() != ApiVersion.V3) {
      throw new ConfigException(path + ".resource_api_version", "only V3 is supported");
    }
    return s.hasInitialFetchTimeout() ? Fields.millis(s.getInitialFetchTimeout()) : 15_000;
  }
}
