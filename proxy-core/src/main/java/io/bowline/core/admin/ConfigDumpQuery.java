package io.bowline.core.admin;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * What {@code /config_dump} is asked for, as Envoy reads it: {@code resource} (one repeated field of the top-level
 * dumps, its elements the answer's configs), {@code mask} (a field mask in Envoy's comma-separated form, applied to
 * each top-level dump, or with {@code resource} to each element; it reaches inside an {@code Any}, so
 * {@code resource=dynamic_active_clusters&mask=cluster.name} gives the clusters' names) and {@code name_regex} (only
 * the resources whose name matches it whole).
 */
final class ConfigDumpQuery {
  private final @Nullable String resource;
  private final @Nullable Node mask;
  private final @Nullable Pattern names;

  private ConfigDumpQuery(@Nullable String resource, @Nullable Node mask, @Nullable Pattern names) {
    this.resource = resource;
    this.mask = mask;
    this.names = names;
  }

  /** An answer other than the dump: the status and the text that says why. */
  static final class Refused extends Exception {
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  static ConfigDumpQuery parse(Map<String, List<String>> params) throws Refused {
    String resource = first(params, "resource");
    String mask = first(params, "mask");
    String regex = first(params, "name_regex");
    Pattern names = null;
    if (regex != null) {
      try {
        names = Pattern.compile(regex);
      } catch (PatternSyntaxException e) {
        throw new Refused(400, "Error while parsing name_regex from " + regex + ": " + e.getDescription());
      }
    }
    return new ConfigDumpQuery(resource, mask == null ? null : Node.of(mask), names);
  }

  private static @Nullable String first(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.isEmpty() || v.get(0).isEmpty() ? null : v.get(0);
  }

  /** The resources whose name (as {@code name} gives it) the answer keeps, in their order. */
  <T> List<T> named(List<T> resources, java.util.function.Function<T, String> name) {
    if (names == null) {
      return resources;
    }
    List<T> kept = new java.util.ArrayList<>();
    for (T r : resources) {
      if (names.matcher(name.apply(r)).matches()) {
        kept.add(r);
      }
    }
    return kept;
  }

  /**
   * The answer's configs from the top-level dumps, in their order.
   *
   * @param types the types an {@code Any} may carry, to apply a mask inside one
   */
  List<Message> select(List<Message> dumps, JsonFormat.TypeRegistry types) throws Refused {
    if (resource == null) {
      return mask == null ? dumps : dumps.stream().map(d -> mask.trim(d, types)).toList();
    }
    for (Message dump : dumps) {
      Descriptors.FieldDescriptor f = dump.getDescriptorForType().findFieldByName(resource);
      if (f == null) {
        continue;
      }
      if (!f.isRepeated() || f.getJavaType() != Descriptors.FieldDescriptor.JavaType.MESSAGE) {
        throw new Refused(400, f.getName() + " is not a repeated field. Use ?mask=" + f.getName()
            + " to get only this field");
      }
      int n = dump.getRepeatedFieldCount(f);
      Message[] out = new Message[n];
      for (int i = 0; i < n; i++) {
        Message element = (Message) dump.getRepeatedField(f, i);
        out[i] = mask == null ? element : mask.trim(element, types);
      }
      return List.of(out);
    }
    throw new Refused(404, resource + " not found in config dump");
  }

  /** A field mask as a tree of field names; a node without children keeps its field whole. */
  private static final class Node {
    private final Map<String, Node> children = new LinkedHashMap<>();

    static Node of(String mask) {
      Node root = new Node();
      for (String path : mask.split(",")) {
        Node at = root;
        String p = path.trim();
        if (p.isEmpty()) {
          continue;
        }
        for (String name : p.split("\\.")) {
          at = at.children.computeIfAbsent(name, k -> new Node());
        }
      }
      return root;
    }

    /** The message with only the fields this node names, each trimmed by its own node. */
    Message trim(Message m, JsonFormat.TypeRegistry types) {
      Message.Builder b = m.toBuilder();
      for (Descriptors.FieldDescriptor f : m.getDescriptorForType().getFields()) {
        Node child = children.get(f.getName());
        if (child == null) {
          b.clearField(f);
        } else if (!child.children.isEmpty() && f.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
          if (f.isRepeated()) {
            for (int i = 0, n = m.getRepeatedFieldCount(f); i < n; i++) {
              b.setRepeatedField(f, i, child.trimValue((Message) m.getRepeatedField(f, i), types));
            }
          } else if (m.hasField(f)) {
            b.setField(f, child.trimValue((Message) m.getField(f), types));
          }
        }
      }
      return b.build();
    }

    /** A field's message trimmed; an {@code Any} is opened, trimmed and packed again under its own type URL. */
    private Message trimValue(Message value, JsonFormat.TypeRegistry types) {
      if (!(value instanceof Any any)) {
        return trim(value, types);
      }
      String url = any.getTypeUrl();
      Descriptors.Descriptor type = types.find(url.substring(url.lastIndexOf('/') + 1));
      if (type == null) {
        return any; // a type this proxy cannot open: shown whole, as it would be without the mask
      }
      try {
        Message inner = DynamicMessage.parseFrom(type, any.getValue());
        return Any.newBuilder().setTypeUrl(url).setValue(trim(inner, types).toByteString()).build();
      } catch (InvalidProtocolBufferException e) {
        return any;
      }
    }
  }
}
