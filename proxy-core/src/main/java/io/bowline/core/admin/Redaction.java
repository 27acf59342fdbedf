package io.bowline.core.admin;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * What {@code /config_dump} must not show, redacted as Envoy does: every field the API marks
 * {@code [(udpa.annotations.sensitive) = true]} — a TLS certificate's {@code private_key} and {@code password}, session
 * ticket keys, a generic secret — and everything under it: text and bytes become {@code [redacted]}, other values are
 * cleared. Messages packed in an {@code Any} (a transport socket's TLS context, say) are opened and redacted too. A
 * message with nothing to redact is returned as it is, and a type that cannot hold a sensitive field is not walked.
 */
final class Redaction {
  static final String REDACTED = "[redacted]";
  private static final String ANY = "google.protobuf.Any";

  private final JsonFormat.TypeRegistry types;
  /** Whether a message type can hold a sensitive field, directly, below, or inside an {@code Any}. */
  private final Map<Descriptor, Boolean> mayHold = new ConcurrentHashMap<>();

  Redaction(JsonFormat.TypeRegistry types) {
    this.types = types;
  }

  /** {@code m} with its sensitive fields redacted, or {@code m} itself when it has none set. */
  @SuppressWarnings("unchecked")
  <T extends Message> T redact(T m) {
    Message r = walk(m, false);
    return r == null ? m : (T) r;
  }

  /** An {@code Any} with what it carries redacted; one of a type this registry does not know is left as it is. */
  Any redact(Any any) {
    Any r = redactAny(any, false);
    return r == null ? any : r;
  }

  /** Null when nothing changed. */
  private @Nullable Message walk(Message m, boolean sensitive) {
    if (m instanceof Any any) {
      return redactAny(any, sensitive);
    }
    if (m.getDescriptorForType().getFullName().equals(ANY)) { // an Any inside a DynamicMessage
      return redactDynamicAny(m, sensitive);
    }
    if (!sensitive && !mayHold(m.getDescriptorForType())) {
      return null;
    }
    Message.Builder b = null;
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      boolean s = sensitive || f.getOptions().getExtension(udpa.annotations.Sensitive.sensitive);
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (f.isRepeated()) {
          List<?> values = (List<?>) e.getValue();
          for (int i = 0; i < values.size(); i++) {
            Message r = walk((Message) values.get(i), s);
            if (r != null) {
              b = b != null ? b : m.toBuilder();
              b.setRepeatedField(f, i, r);
            }
          }
        } else {
          Message r = walk((Message) e.getValue(), s);
          if (r != null) {
            b = b != null ? b : m.toBuilder();
            b.setField(f, r);
          }
        }
      } else if (s) {
        b = b != null ? b : m.toBuilder();
        scrub(b, f);
      }
    }
    return b == null ? null : b.build();
  }

  private static void scrub(Message.Builder b, FieldDescriptor f) {
    Object redacted = switch (f.getJavaType()) {
      case STRING -> REDACTED;
      case BYTE_STRING -> ByteString.copyFromUtf8(REDACTED);
      default -> null;
    };
    if (redacted == null) {
      b.clearField(f);
    } else if (f.isRepeated()) {
      for (int i = 0; i < b.getRepeatedFieldCount(f); i++) {
        b.setRepeatedField(f, i, redacted);
      }
    } else {
      b.setField(f, redacted);
    }
  }

  private @Nullable Any redactAny(Any any, boolean sensitive) {
    ByteString value = redactPacked(any.getTypeUrl(), any.getValue(), sensitive);
    return value == null ? null : any.toBuilder().setValue(value).build();
  }

  private @Nullable Message redactDynamicAny(Message any, boolean sensitive) {
    Descriptor d = any.getDescriptorForType();
    FieldDescriptor typeUrl = d.findFieldByName("type_url");
    FieldDescriptor value = d.findFieldByName("value");
    ByteString redacted = redactPacked((String) any.getField(typeUrl), (ByteString) any.getField(value), sensitive);
    return redacted == null ? null : any.toBuilder().setField(value, redacted).build();
  }

  /**
   * The packed message's bytes redacted (all of it under a sensitive field, where the type URL stays so that it still
   * prints), or null when nothing changed.
   */
  private @Nullable ByteString redactPacked(String typeUrl, ByteString value, boolean sensitive) {
    Descriptor d = types.find(typeUrl.substring(typeUrl.lastIndexOf('/') + 1));
    if (d == null) {
      return sensitive && !value.isEmpty() ? ByteString.EMPTY : null; // unknown: nothing of it may show
    }
    if (!sensitive && !mayHold(d)) {
      return null;
    }
    try {
      Message r = walk(DynamicMessage.parseFrom(d, value), sensitive);
      return r == null ? null : r.toByteString();
    } catch (InvalidProtocolBufferException e) {
      return sensitive ? ByteString.EMPTY : null; // accepted config was parsed once: not expected
    }
  }

  private boolean mayHold(Descriptor d) {
    Boolean known = mayHold.get(d);
    if (known != null) {
      return known;
    }
    boolean v = mayHold(d, new java.util.HashSet<>());
    mayHold.put(d, v);
    return v;
  }

  private static boolean mayHold(Descriptor d, java.util.Set<Descriptor> seen) {
    if (d.getFullName().equals(ANY)) {
      return true; // what it carries is known only when it is opened
    }
    if (!seen.add(d)) {
      return false; // a recursive type: answered where it was first met
    }
    for (FieldDescriptor f : d.getFields()) {
      if (f.getOptions().getExtension(udpa.annotations.Sensitive.sensitive)
          || f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && mayHold(f.getMessageType(), seen)) {
        return true;
      }
    }
    return false;
  }
}
