package io.bowline.core.xds;

import com.google.protobuf.Any;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What xDS has delivered, for {@code /config_dump}: per type the version last accepted and each resource with the
 * version and time it last changed; listeners, clusters and SDS secrets also as warming. Immutable; replaced after each update.
 */
public record XdsDump(
    String cdsVersion,
    String ldsVersion,
    List<Entry> activeClusters,
    List<Entry> warmingClusters,
    List<Entry> activeListeners,
    List<Entry> warmingListeners,
    List<Entry> routes,
    List<Entry> endpoints,
    List<Entry> activeSecrets,
    List<Entry> warmingSecrets) {

  public static final XdsDump EMPTY = new XdsDump("", "", List.of(), List.of(), List.of(), List.of(), List.of(),
      List.of(), List.of(), List.of());

  /** The version a secret that was asked for and has not arrived shows, as in Envoy. */
  public static final String UNINITIALIZED = "uninitialized";

  /** One resource as accepted. */
  public record Entry(String name, Any resource, String version, Instant lastUpdated) {}

  /** The entry of {@code name} in {@code list}, if present. */
  public static @Nullable Entry find(List<Entry> list, String name) {
    for (Entry e : list) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    return null;
  }
}
