package io.bowline.core.compile;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import io.bowline.xds.ConfigException;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.WireFormat;
import java.util.BitSet;
import org.jspecify.annotations.Nullable;

/** Helpers shared by the compilers: the "field not supported" check and unit conversions. */
final class Fields {
  private Fields() {}

  /**
   * Fails on the first field set in {@code m} that is not in {@code supported}, naming it by path. This is how
   * bowline keeps its promise never to ignore a field silently.
   */
  static void allow(Message m, String path, String... supported) throws ConfigException {
    AllowLists lists = ALLOWED.get(m.getClass());
    BitSet ok = lists.allowed(supported);
    FieldPresence resource = FieldPresence.current();
    if (resource != null && within(resource.seen(lists.typeId), ok)) {
      return; // no message of this type in the resource being compiled sets anything else
    }
    // the set fields are read off the wire form: the generated serializer is fast where getAllFields() reflects
    // over every field (and initialises each type's reflection tables), which dominated compiling a CDS update of
    // 10 000 clusters
    int size = m.getSerializedSize();
    if (size == 0) {
      return; // an absent or empty message sets nothing (most checks are on sub-messages a resource leaves out)
    }
    byte[] wire = size <= SCRATCH_MAX ? SCRATCH.get() : new byte[size];
    if (wire.length < size) {
      wire = new byte[Math.max(size, Math.min(SCRATCH_MAX, wire.length * 2))];
      SCRATCH.set(wire);
    }
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(wire, 0, size);
      m.writeTo(out);
      CodedInputStream in = CodedInputStream.newInstance(wire, 0, size);
      int tag;
      while ((tag = in.readTag()) != 0) {
        int number = WireFormat.getTagFieldNumber(tag);
        if (!ok.get(number)) {
          FieldDescriptor f = m.getDescriptorForType().findFieldByNumber(number);
          if (f != null) { // fields this API version does not know are ignored, as Envoy does for xDS
            String message = "not supported by bowline yet (in " + m.getDescriptorForType().getFullName() + ")";
            if (!ignored(join(path, f.getName()), message)) {
              throw new ConfigException(join(path, f.getName()), message);
            }
          }
        }
        in.skipField(tag);
      }
    } catch (java.io.IOException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage());
    }
  }

  /** Where the static bootstrap's unsupported parts go as warnings, while a lenient compile runs on this thread. */
  private static final ThreadLocal<java.util.List<String>> LENIENT = new ThreadLocal<>();

  /** Compiling code that may throw ConfigException. */
  interface Compile<T> {
    T run() throws ConfigException;
  }

  /**
   * Runs {@code body} with --allow-unknown-static-fields' leniency: what bowline does not support is skipped and
   * reported in {@code warnings} instead of failing (static configuration only; xDS updates are never lenient).
   */
  static <T> T lenient(java.util.List<String> warnings, Compile<T> body) throws ConfigException {
    LENIENT.set(warnings);
    try {
      return body.run();
    } finally {
      LENIENT.remove();
    }
  }

  /** In a lenient compile: records that {@code path} is ignored and returns true; otherwise false (fail). */
  static boolean ignored(String path, String why) {
    java.util.List<String> w = LENIENT.get();
    if (w == null) {
      return false;
    }
    w.add(path + ": " + why + ", ignored (--allow-unknown-static-fields)");
    return true;
  }

  /** Compiling runs on few threads (main, xDS control); each keeps one buffer up to this size. */
  private static final int SCRATCH_MAX = 1 << 20;
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[4096]);

  /** Per message class: the supported-name lists seen at its call sites, each with its field numbers. */
  private static final ClassValue<AllowLists> ALLOWED = new ClassValue<>() {
    @Override
    protected AllowLists computeValue(Class<?> type) {
      return new AllowLists(descriptorOf(type));
    }
  };

  /** Whether every field number in {@code seen} (null: the type was not met) is in {@code ok}. */
  private static boolean within(@Nullable BitSet seen, BitSet ok) {
    if (seen == null) {
      return false; // not from the resource's bytes (or an empty default): the message itself is checked
    }
    for (int i = seen.nextSetBit(0); i >= 0; i = seen.nextSetBit(i + 1)) {
      if (!ok.get(i)) {
        return false;
      }
    }
    return true;
  }

  private record AllowList(String[] names, BitSet numbers) {}

  private static final class AllowLists {
    final Descriptor type;
    final int typeId;
    volatile AllowList[] known = new AllowList[0];

    AllowLists(Descriptor type) {
      this.type = type;
      this.typeId = FieldPresence.idOf(type);
      FieldPresence.register(type);
    }

    BitSet allowed(String[] supported) {
      for (AllowList l : known) { // a call site's names are literals: Arrays.equals matches on identity
        if (java.util.Arrays.equals(l.names, supported)) {
          return l.numbers;
        }
      }
      return add(supported);
    }

    synchronized BitSet add(String[] names) {
      BitSet b = new BitSet();
      for (String name : names) {
        FieldDescriptor f = type.findFieldByName(name);
        if (f == null) {
          throw new IllegalArgumentException(type.getFullName() + " has no field " + name);
        }
        b.set(f.getNumber());
      }
      AllowList[] next = java.util.Arrays.copyOf(known, known.length + 1);
      next[known.length] = new AllowList(names.clone(), b);
      known = next;
      return b;
    }
  }

  /** The generated class's static descriptor: unlike getDescriptorForType() it builds no reflection tables. */
  private static Descriptor descriptorOf(Class<?> type) {
    try {
      return (Descriptor) type.getMethod("getDescriptor").invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(type + " is not a generated message class", e);
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
      return Anys.unpack(any, type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new ConfigException(path, "expected " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
