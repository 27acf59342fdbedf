package io.bowline.core.filter;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A value in a stream's dynamic metadata: a filter namespace and the keys under it, as Envoy's
 * {@code MetadataKey} (custom tags) and {@code %DYNAMIC_METADATA(NAMESPACE:KEY:...)%} (access logs) name one.
 * Rendered as Envoy renders it: strings as they are, whole numbers without a fraction, lists and structs as JSON.
 */
public record MetadataPath(String namespace, List<String> keys) {
  public MetadataPath {
    keys = List.copyOf(keys);
  }

  /** The value as text, or null when the namespace or a key is missing (or the value is null). */
  public @Nullable String render(@Nullable Map<String, Struct> metadata) {
    Struct ns = metadata == null || namespace.isEmpty() ? null : metadata.get(namespace);
    if (ns == null) {
      return null;
    }
    Value v = Value.newBuilder().setStructValue(ns).build();
    for (String key : keys) {
      if (!v.hasStructValue()) {
        return null;
      }
      v = v.getStructValue().getFieldsMap().get(key);
      if (v == null) {
        return null;
      }
    }
    return switch (v.getKindCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case NUMBER_VALUE -> v.getNumberValue() == Math.rint(v.getNumberValue()) && Math.abs(v.getNumberValue()) < 1e15
          ? Long.toString((long) v.getNumberValue()) : Double.toString(v.getNumberValue());
      case NULL_VALUE, KIND_NOT_SET -> null;
      default -> {
        try {
          yield com.google.protobuf.util.JsonFormat.printer().omittingInsignificantWhitespace().print(v);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          yield null;
        }
      }
    };
  }
}
