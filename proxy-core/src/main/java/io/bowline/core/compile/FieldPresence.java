package io.bowline.core.compile;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.WireFormat;
import io.bowline.xds.ConfigException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Which fields an xDS resource sets, per message type, read once off the bytes it arrived as — so that
 * {@link Fields#allow} can accept a message without serializing it again. The unsupported-field check used to
 * re-serialize every message it looked at, and each level of a resource re-serialized its whole subtree: on a cold
 * JVM that ran (and compiled) the generated serializer of every message type in the push, about a second of CPU for
 * ten thousand clusters, load assignments and virtual hosts.
 *
 * <p>The walk is generic (descriptor-driven) and records, for each message type met anywhere in the resource, the
 * union of the field numbers set in its instances, unpacking {@code Any} values whose type bowline has seen. A check
 * then accepts a message at once when no instance of its type sets a field outside the allowed ones; otherwise (or
 * when the walk could not see everything: an {@code Any} of a type not seen yet, groups, nesting deeper than
 * protobuf's limit) it checks the message itself exactly as before. What is on the wire is a superset of what a
 * re-serialization writes (a default value written explicitly shows up here, not there), so this only ever sends a
 * message to the exact check, never accepts one the exact check would refuse.
 */
public final class FieldPresence {
  /** Compiling code that may throw ConfigException. */
  public interface Body<T> {
    T run() throws ConfigException;
  }

  private static final int MAX_DEPTH = 100; // protobuf-java's recursion limit: the resource parsed, so it holds

  /** Message types by full name, for the values of {@code Any} fields: every type bowline has unpacked or checked. */
  private static final ConcurrentHashMap<String, Descriptor> KNOWN = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<Descriptor, Integer> IDS = new ConcurrentHashMap<>();
  private static final AtomicInteger NEXT_ID = new AtomicInteger();
  private static final ThreadLocal<FieldPresence> WALKERS = ThreadLocal.withInitial(FieldPresence::new);
  private static final ThreadLocal<FieldPresence> CURRENT = new ThreadLocal<>();
  private static final Descriptor ANY = com.google.protobuf.Any.getDescriptor();

  /** The bytes being walked, and where the walk is: a small reader of its own, cheap to run and to compile cold. */
  private static final java.nio.ByteBuffer EMPTY = java.nio.ByteBuffer.allocate(0);
  private java.nio.ByteBuffer buf = EMPTY;
  private int pos;
  private BitSet[] sets = new BitSet[64]; // by type id: the field numbers set, kept from walk to walk
  private boolean[] met = new boolean[64]; // by type id: whether this walk met the type
  private int[] touched = new int[16];
  private int touchedCount;

  private FieldPresence() {}

  /** Makes {@code type} resolvable as an {@code Any}'s value. */
  static void register(Descriptor type) {
    KNOWN.putIfAbsent(type.getFullName(), type);
  }

  static int idOf(Descriptor type) {
    Integer id = IDS.get(type);
    return id != null ? id : IDS.computeIfAbsent(type, t -> NEXT_ID.getAndIncrement());
  }

  /**
   * Runs {@code body} (the compile of one resource of type {@code type} that arrived as {@code bytes}) with the
   * resource's field presence known to {@link Fields#allow} on this thread.
   */
  public static <T> T walking(ByteString bytes, Descriptor type, Body<T> body) throws ConfigException {
    FieldPresence outer = CURRENT.get();
    FieldPresence p = outer == null ? WALKERS.get() : new FieldPresence(); // a compile within a compile: its own
    p.reset();
    p.buf = bytes.asReadOnlyByteBuffer(); // the bytes themselves for the usual flat string, no copy
    p.pos = p.buf.position();
    boolean complete = p.walk(type, p.buf.limit(), 0); // if not, the exact check decides (and says what is wrong)
    p.buf = EMPTY;
    CURRENT.set(complete ? p : null);
    try {
      return body.run();
    } finally {
      // set, never removed: a removed entry is made again (a WeakReference) by the next resource's get and set
      CURRENT.set(outer);
    }
  }

  /** The walk of the resource being compiled on this thread, if it saw everything. */
  static @Nullable FieldPresence current() {
    return CURRENT.get();
  }

  /** The field numbers set in the resource's messages of the type with this id; null when none was met. */
  @Nullable BitSet seen(int typeId) {
    return typeId < met.length && met[typeId] ? sets[typeId] : null;
  }

  private void reset() {
    for (int i = 0; i < touchedCount; i++) {
      met[touched[i]] = false;
      sets[touched[i]].clear();
    }
    touchedCount = 0;
  }

  private BitSet mark(Descriptor type) {
    int id = idOf(type);
    if (id >= sets.length) {
      int n = Math.max(id + 1, sets.length * 2);
      sets = Arrays.copyOf(sets, n);
      met = Arrays.copyOf(met, n);
    }
    BitSet b = sets[id];
    if (b == null) {
      b = new BitSet();
      sets[id] = b;
    }
    if (!met[id]) {
      met[id] = true;
      if (touchedCount == touched.length) {
        touched = Arrays.copyOf(touched, touchedCount * 2);
      }
      touched[touchedCount++] = id;
    }
    return b;
  }

  /**
   * Records the fields of one message of {@code type} in {@code [pos, end)}; false when the bytes are not what
   * the walk can follow (the resource parsed, so only groups or an absurd nesting get here).
   */
  private boolean walk(Descriptor type, int end, int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    if (type == ANY) {
      return walkAny(end, depth);
    }
    BitSet set = mark(type);
    while (pos < end) {
      long tag = varint(end);
      int number = (int) (tag >>> 3);
      int wireType = (int) tag & 7;
      FieldDescriptor f = type.findFieldByNumber(number);
      if (f != null) { // a number this API version does not know is ignored, as the exact check does
        set.set(number);
        if (wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED
            && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          int len = length(end);
          if (len < 0 || !walk(f.getMessageType(), pos + len, depth + 1)) {
            return false;
          }
          continue;
        }
      }
      if (!skip(wireType, end)) {
        return false;
      }
    }
    return pos == end;
  }

  /** An {@code Any}: its value is walked as the type its URL names, when bowline knows that type. */
  private boolean walkAny(int end, int depth) {
    BitSet set = mark(ANY);
    Descriptor type = null;
    boolean named = false;
    int valueAt = -1;
    int valueLength = 0;
    while (pos < end) {
      long tag = varint(end);
      int number = (int) (tag >>> 3);
      int wireType = (int) tag & 7;
      if (wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED && (number == 1 || number == 2)) {
        int len = length(end);
        if (len < 0) {
          return false;
        }
        set.set(number);
        if (number == 1) {
          named = true;
          type = KNOWN.get(typeName(pos, len));
        } else {
          valueAt = pos;
          valueLength = len;
        }
        pos += len;
        continue;
      }
      if (ANY.findFieldByNumber(number) != null) {
        set.set(number);
      }
      if (!skip(wireType, end)) {
        return false;
      }
    }
    if (!named) {
      return pos == end; // no type: nothing inside to check
    }
    if (type == null) {
      return false; // a type not seen yet: the walk cannot vouch for what is inside
    }
    if (valueAt < 0) {
      mark(type); // no value: a message of that type that sets nothing
      return true;
    }
    int after = pos;
    pos = valueAt;
    boolean ok = walk(type, valueAt + valueLength, depth + 1);
    pos = after;
    return ok;
  }

  /** The full type name in a type URL's bytes: what follows the last '/'. */
  private String typeName(int at, int len) {
    int from = at;
    for (int i = at; i < at + len; i++) {
      if (buf.get(i) == '/') {
        from = i + 1;
      }
    }
    byte[] name = new byte[at + len - from];
    buf.get(from, name);
    return new String(name, java.nio.charset.StandardCharsets.UTF_8);
  }

  private long varint(int end) {
    long v = 0;
    for (int shift = 0; shift < 64 && pos < end; shift += 7) {
      byte b = buf.get(pos++);
      v |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return v;
      }
    }
    pos = end + 1; // truncated: leaves the walk past its end, which fails it
    return 0;
  }

  /** A length prefix that fits in what is left, else -1. */
  private int length(int end) {
    long len = varint(end);
    return pos <= end && len >= 0 && len <= end - pos ? (int) len : -1;
  }

  private boolean skip(int wireType, int end) {
    switch (wireType) {
      case WireFormat.WIRETYPE_VARINT -> varint(end);
      case WireFormat.WIRETYPE_FIXED64 -> pos += 8;
      case WireFormat.WIRETYPE_FIXED32 -> pos += 4;
      case WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
        int len = length(end);
        if (len < 0) {
          return false;
        }
        pos += len;
      }
      default -> {
        return false; // groups (no Envoy message has one) and invalid wire types
      }
    }
    return pos <= end;
  }
}
