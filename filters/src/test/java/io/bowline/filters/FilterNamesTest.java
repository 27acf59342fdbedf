package io.bowline.filters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.xds.bootstrap.EnvoyTypes;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The filter registry is keyed by the type names each factory declares (so that building it loads no config class);
 * this holds each name to the class it stands for, and to a type a configuration can actually carry.
 */
class FilterNamesTest {
  @Test
  void eachDeclaredConfigTypeNameIsItsConfigClasssName() {
    for (HttpFilterFactory<?> f : BuiltinFilters.factories()) {
      assertEquals(f.defaultConfig().getDescriptorForType().getFullName(), f.configTypeName(), f.name());
      assertEquals(f.configType(), f.defaultConfig().getClass(), f.name());
    }
  }

  @Test
  void everyDeclaredTypeParsesFromABootstrap() {
    for (HttpFilterFactory<?> f : BuiltinFilters.factories()) {
      assertNotNull(EnvoyTypes.registry().find(f.configTypeName()), f.name() + ": " + f.configTypeName());
      for (String t : f.routeConfigTypes()) {
        assertNotNull(EnvoyTypes.registry().find(t), f.name() + ": per-route " + t);
      }
    }
  }

  @Test
  void noTwoFactoriesClaimOneConfigType() {
    Set<String> seen = new HashSet<>();
    for (HttpFilterFactory<?> f : BuiltinFilters.factories()) {
      assertTrue(seen.add(f.configTypeName()), f.configTypeName() + " registered twice");
    }
  }
}
