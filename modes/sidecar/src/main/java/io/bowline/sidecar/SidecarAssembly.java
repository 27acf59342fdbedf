package io.bowline.sidecar;

import io.bowline.core.filter.FilterRegistry;
import io.bowline.filters.BuiltinFilters;

/**
 * The sidecar assembly. For now it runs the bootstrap as given, with the built-in filters; inbound/outbound capture
 * and Istio's sidecar defaults are assembled here when they land.
 */
public final class SidecarAssembly {
  private SidecarAssembly() {}

  public static FilterRegistry filters() {
    return BuiltinFilters.registry();
  }
}
