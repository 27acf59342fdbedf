package io.bowline.core.compile;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.WireFormat;
import io.bowline.xds.ConfigException;
import java.io.IOException;
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

  private BitSet[] seen = new BitSet[64]; // by type id: the field numbers set; null where the type was not met
  private int[] touched = new int[16];
  private int touchedCount;
  private boolean complete;

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
    FieldPresence p = WALKERS.get();
    p.reset();
    p.complete = true;
    try {
      p.walk(bytes.newCodedInput(), type, 0);
    } catch (IOException e) {
      p.complete = false; // the exact check decides, and says what is wrong
    }
    FieldPresence outer = CURRENT.get();
    CURRENT.set(p.complete ? p : null);
    try {
      return body.run();
    } finally {
      if (outer == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(outer);
      }
    }
  }

  /** The walk of the resource being compiled on this thread, if it saw everything. */
  static @Nullable FieldPresence current() {
    return CURRENT.get();
  }

  /** The field numbers set in the resource's messages of the type with this id; null when none was met. */
  @Nullable BitSet seen(int typeId) {
    return typeId < seen.length ? seen[typeId] : null;
  }

  private void reset() {
    for (int i = 0; i < touchedCount; i++) {
      seen[touched[i]].clear();
      seen[touched[i]] = null;
    }
    touchedCount = 0;
  }

  private BitSet mark(Descriptor type) {
    int id = idOf(type);
    if (id >= seen.length) {
      seen = Arrays.copyOf(seen, Math.max(id + 1, seen.length * 2));
    }
    BitSet b = seen[id];
    if (b == null) {
      b = new BitSet();
      seen[id] = b;
      if (touchedCount == touched.length) {
        touched = Arrays.copyOf(touched, touchedCount * 2);
      }
      touched[touchedCount++] = id;
    }
    return b;
  }

  /** Records the fields of one message of {@code type} read from {@code in} up to its current limit. */
  private void walk(CodedInputStream in, Descriptor type, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      complete = false;
      return;
    }
    if (type == ANY) {
      walkAny(in, depth);
      return;
    }
    BitSet set = mark(type);
    int tag;
    while ((tag = in.readTag()) != 0) {
      int number = WireFormat.getTagFieldNumber(tag);
      FieldDescriptor f = type.findFieldByNumber(number);
      if (f == null) { // unknown to this API version: ignored, as the exact check does
        in.skipField(tag);
        continue;
      }
      set.set(number);
      int wireType = WireFormat.getTagWireType(tag);
      if (wireType == WireFormat.WIRETYPE_START_GROUP) {
        complete = false;
        in.skipField(tag);
      } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
          && wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        int limit = in.pushLimit(in.readRawVarint32());
        walk(in, f.getMessageType(), depth + 1);
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
  }

  /** An {@code Any}: its value is walked as the type its URL names, when bowline knows that type. */
  private void walkAny(CodedInputStream in, int depth) throws IOException {
    BitSet set = mark(ANY);
    String url = null;
    ByteString value = ByteString.EMPTY;
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          url = in.readStringRequireUtf8();
          set.set(1);
        }
        case (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          value = in.readBytes();
          set.set(2);
        }
        default -> {
          if (ANY.findFieldByNumber(WireFormat.getTagFieldNumber(tag)) != null) {
            set.set(WireFormat.getTagFieldNumber(tag));
          }
          in.skipField(tag);
        }
      }
    }
    if (url == null) {
      return; // an empty Any: nothing inside
    }
    Descriptor type = KNOWN.get(url.substring(url.lastIndexOf('/') + 1));
    if (type == null) {
      complete = false;
      return;
    }
    walk(value.newCodedInput(), type, depth + 1);
  }
}
