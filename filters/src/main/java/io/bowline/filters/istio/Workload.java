package io.bowline.filters.istio;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * A workload as Istio's metrics label it, read from Istio's node metadata: this proxy's own (bootstrap
 * {@code node.metadata}) or a peer's, sent in {@code x-envoy-peer-metadata} as a base64 protobuf Struct.
 * Fields Istio cannot know are {@code "unknown"}, as Istio writes them.
 */
record Workload(String workload, String namespace, String app, String version, String canonicalService,
    String canonicalRevision, String cluster) {

  static final String UNKNOWN = "unknown";
  /** A canonical revision Istio cannot know is {@code latest}. */
  static final String LATEST = "latest";
  static final Workload NONE = new Workload(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, LATEST, UNKNOWN);

  /** From Istio node metadata (WORKLOAD_NAME, NAMESPACE, CLUSTER_ID, LABELS). */
  static Workload of(Struct metadata) {
    if (metadata.getFieldsCount() == 0) {
      return NONE;
    }
    Struct labels = metadata.getFieldsOrDefault("LABELS", Value.getDefaultInstance()).getStructValue();
    String workload = string(metadata, "WORKLOAD_NAME");
    String app = first(label(labels, "app"), label(labels, "app.kubernetes.io/name"));
    String version = first(label(labels, "version"), label(labels, "app.kubernetes.io/version"));
    String canonicalService = first(label(labels, "service.istio.io/canonical-name"), app, workload);
    String canonicalRevision = first(label(labels, "service.istio.io/canonical-revision"), version, LATEST);
    return new Workload(orUnknown(workload), orUnknown(string(metadata, "NAMESPACE")), orUnknown(app),
        orUnknown(version), orUnknown(canonicalService), canonicalRevision, orUnknown(string(metadata, "CLUSTER_ID")));
  }

  /**
   * From Istio's endpoint metadata, {@code filter_metadata.istio.workload}:
   * {@code <workload>;<namespace>;<canonical service>;<canonical revision>;<cluster>}, which carries no app or version
   * labels; {@link #NONE} when it has fewer parts.
   */
  static Workload ofEndpoint(String encoded) {
    String[] p = encoded.split(";", -1);
    if (p.length < 5) {
      return NONE;
    }
    return new Workload(orUnknown(p[0]), orUnknown(p[1]), UNKNOWN, UNKNOWN, orUnknown(p[2]),
        p[3].isEmpty() ? LATEST : p[3], orUnknown(p[4]));
  }

  /** An endpoint's {@code istio.workload} string, or null. */
  static @Nullable String endpointEncoding(java.util.@Nullable Map<String, Struct> filterMetadata) {
    Struct istio = filterMetadata == null ? null : filterMetadata.get("istio");
    Value encoded = istio == null ? null : istio.getFieldsMap().get("workload");
    return encoded == null ? null : encoded.getStringValue();
  }

  /** From an {@code x-envoy-peer-metadata} header value; null when it is not a base64 Struct. */
  static @Nullable Workload fromHeader(String base64) {
    try {
      return of(Struct.parseFrom(Base64.getDecoder().decode(base64.trim())));
    } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** This workload's metadata as the exchange header carries it. */
  static String header(Struct metadata) {
    Struct.Builder b = Struct.newBuilder();
    for (String k : new String[] {"NAME", "NAMESPACE", "LABELS", "WORKLOAD_NAME", "OWNER", "CLUSTER_ID", "MESH_ID",
        "PLATFORM_METADATA", "APP_CONTAINERS", "INSTANCE_IPS", "SERVICE_ACCOUNT"}) {
      Value v = metadata.getFieldsMap().get(k);
      if (v != null) {
        b.putFields(k, v);
      }
    }
    return Base64.getEncoder().encodeToString(b.build().toByteArray());
  }

  private static @Nullable String string(Struct s, String key) {
    Value v = s.getFieldsMap().get(key);
    return v == null || v.getStringValue().isEmpty() ? null : v.getStringValue();
  }

  private static @Nullable String label(Struct labels, String key) {
    return string(labels, key);
  }

  private static @Nullable String first(@Nullable String... values) {
    for (String v : values) {
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static String orUnknown(@Nullable String v) {
    return v == null || v.isEmpty() ? UNKNOWN : v;
  }
}
