package io.bowline.core.compile;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;

/**
 * Unpacks {@link Any} values without protobuf-java's per-call reflection: {@code Any.unpack(Class)} looks up the
 * class's default instance reflectively on every call (twice: once more to check the type URL), about half of
 * unpacking a small resource; a push of ten thousand clusters and load assignments unpacks tens of thousands.
 */
public final class Anys {
  private Anys() {}

  private record Type(Message defaultInstance, String fullName) {}

  private static final ClassValue<Type> TYPES = new ClassValue<>() {
    @Override
    protected Type computeValue(Class<?> type) {
      try {
        Message m = (Message) type.getMethod("getDefaultInstance").invoke(null);
        // the static descriptor: getDescriptorForType() would build the message's reflection tables
        var d = (com.google.protobuf.Descriptors.Descriptor) type.getMethod("getDescriptor").invoke(null);
        FieldPresence.register(d);
        return new Type(m, d.getFullName());
      } catch (ReflectiveOperationException e) {
        throw new IllegalArgumentException(type + " is not a generated message class", e);
      }
    }
  };

  /** The message of type {@code type} in {@code any}; fails as {@code Any.unpack} does when the type URL differs. */
  public static <T extends Message> T unpack(Any any, Class<T> type) throws InvalidProtocolBufferException {
    Type t = TYPES.get(type);
    if (!names(any.getTypeUrl(), t.fullName())) {
      throw new InvalidProtocolBufferException("Type of the Any message does not match the given class.");
    }
    return type.cast(t.defaultInstance().getParserForType().parseFrom(any.getValue()));
  }

  /** Whether {@code typeUrl} ({@code type.googleapis.com/pkg.Name}: a URL without '/' names nothing) names the type. */
  static boolean names(String typeUrl, String fullName) {
    int slash = typeUrl.lastIndexOf('/');
    return slash >= 0 && typeUrl.length() - slash - 1 == fullName.length()
        && typeUrl.startsWith(fullName, slash + 1);
  }
}
