package io.bowline.core.compile;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import io.bowline.xds.ConfigException;
import java.util.Set;

/** Helpers shared by the compilers: the "field not supported" check and unit conversions. */
final class Fields {
  private Fields() {}

  /**
   * Fails on the first field set in {@code m} that is not in {@code supported}, naming it by path. This is how
   * bowline keeps its promise never to ignore a field silently.
   */
  static void allow(Message m, String path, String... supported) throws ConfigException {
    Set<String> ok = Set.of(supported);
    for (FieldDescriptor f : m.getAllFields().keySet()) {
      if (!ok.contains(f.getName())) {
        throw new ConfigException(join(path, f.getName()), "not supported by bowline yet (in "
            + m.getDescriptorForType().getFullName() + ")");
      }
    }
  }

  static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  static long millis(Duration d) {
    return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
  }

  static String typeName(com.google.protobuf.Any any) {
    String url = any.getTypeUrl();
    return url.substring(url.lastIndexOf('/') + 1);
  }

  static <T extends Message> T unpack(com.google.protobuf.Any any, Class<T> type, String path)
      throws ConfigException {
    try {
      return any.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new ConfigException(path, "expected " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
