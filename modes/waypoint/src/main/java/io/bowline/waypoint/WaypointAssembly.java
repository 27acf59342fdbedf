package io.bowline.waypoint;

import io.bowline.core.filter.FilterRegistry;
import io.bowline.filters.BuiltinFilters;

/**
 * The waypoint assembly. For now it runs the bootstrap as given, with the built-in filters; HBONE termination and
 * per-namespace service routing are assembled here when they land.
 */
public final class WaypointAssembly {
  private WaypointAssembly() {}

  public static FilterRegistry filters() {
    return BuiltinFilters.registry();
  }
}
