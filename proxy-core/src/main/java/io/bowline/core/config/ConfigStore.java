package io.bowline.core.config;

import java.util.concurrent.atomic.AtomicReference;

/** Holds the current {@link ProxyConfig}; one volatile read per stream, one volatile write per update. */
public final class ConfigStore {
  private final AtomicReference<ProxyConfig> current;

  public ConfigStore(ProxyConfig initial) {
    this.current = new AtomicReference<>(initial);
  }

  public ProxyConfig get() {
    return current.get();
  }

  public void publish(ProxyConfig config) {
    current.set(config);
  }
}
