package io.bowline.core.filter;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.bowline.xds.ConfigException;
import org.jspecify.annotations.Nullable;

/**
 * {@code udpa.type.v1.TypedStruct} and {@code xds.type.v3.TypedStruct}: a config given as JSON-shaped Struct with the
 * type URL of the message it stands for (Istio wraps its own filters' configs this way). The Struct is read into
 * the real message with proto3 JSON rules, so a wrong field is refused as it would be unwrapped.
 */
final class TypedStructs {
  private TypedStructs() {}

  private static final String UDPA = "udpa.type.v1.TypedStruct";
  private static final String XDS = "xds.type.v3.TypedStruct";

  /** The wrapped type's full name and its value. */
  record Wrapped(String typeName, Struct value) {}

  static boolean isTypedStruct(Any any) {
    String url = any.getTypeUrl();
    return url.endsWith("/" + UDPA) || url.endsWith("/" + XDS);
  }

  static @Nullable Wrapped unwrap(Any any, String path) throws ConfigException {
    if (!isTypedStruct(any)) {
      return null;
    }
    try {
      String url;
      Struct value;
      if (any.getTypeUrl().endsWith("/" + UDPA)) {
        var t = any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
        url = t.getTypeUrl();
        value = t.getValue();
      } else {
        var t = any.unpack(com.github.xds.type.v3.TypedStruct.class);
        url = t.getTypeUrl();
        value = t.getValue();
      }
      if (url.isEmpty()) {
        throw new ConfigException(path + ".type_url", "required");
      }
      return new Wrapped(url.substring(url.lastIndexOf('/') + 1), value);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
    }
  }

  static void merge(Wrapped wrapped, Message.Builder into, String path) throws ConfigException {
    try {
      String json = JsonFormat.printer().print(wrapped.value());
      JsonFormat.parser().merge(json, into);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "not a valid " + wrapped.typeName() + ": " + e.getMessage(), e);
    }
  }
}
