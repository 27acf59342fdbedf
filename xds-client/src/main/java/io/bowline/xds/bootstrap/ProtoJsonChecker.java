package io.bowline.xds.bootstrap;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.util.JsonFormat;
import io.bowline.xds.ConfigException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Walks a JSON document against a protobuf descriptor before protobuf's own JSON parser sees it, so that an unknown
 * field is reported with its full path ({@code static_resources.clusters[2].lb_polcy}) rather than only the message
 * type that lacks it. With {@code allowUnknown} the unknown fields are removed from the document and reported as
 * warnings instead, which is Envoy's {@code --allow-unknown-static-fields}.
 */
final class ProtoJsonChecker {
  /** protobuf's JSON form of a duration: seconds, up to nine decimals, and "s". */
  private static final Pattern DURATION = Pattern.compile("-?[0-9]+(\\.[0-9]{1,9})?s");
  private final JsonFormat.TypeRegistry registry;
  private final boolean allowUnknown;
  private final List<String> warnings = new ArrayList<>();

  ProtoJsonChecker(JsonFormat.TypeRegistry registry, boolean allowUnknown) {
    this.registry = registry;
    this.allowUnknown = allowUnknown;
  }

  List<String> warnings() {
    return warnings;
  }

  void check(JsonElement element, Descriptor type, String path) throws ConfigException {
    if (element == null || element.isJsonNull()) {
      return;
    }
    String fullName = type.getFullName();
    if (fullName.equals("google.protobuf.Any")) {
      checkAny(element, path);
      return;
    }
    if (fullName.equals("google.protobuf.Duration")) {
      if (!element.isJsonPrimitive() || !DURATION.matcher(element.getAsString()).matches()) {
        throw new ConfigException(path, "invalid duration " + describe(element)
            + ": seconds followed by \"s\", such as \"5s\" or \"0.25s\"");
      }
      return;
    }
    if (fullName.startsWith("google.protobuf.")) {
      FieldDescriptor wrapped = fullName.endsWith("Value") ? type.findFieldByName("value") : null;
      if (wrapped != null) {
        checkScalar(element, wrapped, path); // a wrapper (UInt32Value, BoolValue, ...) is written as its scalar
      }
      return; // the other well-known types have their own JSON forms (Struct as any JSON)
    }
    if (!element.isJsonObject()) {
      throw new ConfigException(path, "expected an object (" + fullName + "), got " + describe(element));
    }
    JsonObject object = element.getAsJsonObject();
    for (Map.Entry<String, JsonElement> entry : new ArrayList<>(object.entrySet())) {
      String key = entry.getKey();
      FieldDescriptor field = findField(type, key);
      String fieldPath = join(path, field == null ? key : field.getName());
      if (field == null) {
        if (allowUnknown) {
          warnings.add(fieldPath + ": unknown field in " + fullName + ", ignored (--allow-unknown-static-fields)");
          object.remove(key);
          continue;
        }
        throw new ConfigException(fieldPath, "unknown field in " + fullName);
      }
      if (isDuration(field) && entry.getValue().isJsonObject()) {
        // Envoy's loader also takes a duration as {seconds, nanos}, which protobuf's JSON form does not
        object.add(key, new com.google.gson.JsonPrimitive(durationText(entry.getValue().getAsJsonObject(),
            fieldPath)));
        continue;
      }
      checkField(entry.getValue(), field, fieldPath);
    }
  }

  private static boolean isDuration(FieldDescriptor field) {
    return field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !field.isRepeated()
        && field.getMessageType().getFullName().equals("google.protobuf.Duration");
  }

  /** {@code {seconds: 30, nanos: 5}} as protobuf's JSON duration, {@code "30.000000005s"}. */
  private static String durationText(JsonObject d, String path) throws ConfigException {
    long seconds = 0;
    long nanos = 0;
    for (Map.Entry<String, JsonElement> e : d.entrySet()) {
      try {
        switch (e.getKey()) {
          case "seconds" -> seconds = e.getValue().getAsLong();
          case "nanos" -> nanos = e.getValue().getAsLong();
          default -> throw new ConfigException(join(path, e.getKey()), "unknown field in google.protobuf.Duration");
        }
      } catch (NumberFormatException | UnsupportedOperationException | IllegalStateException ex) {
        throw new ConfigException(join(path, e.getKey()), "expected an integer, got " + describe(e.getValue()));
      }
    }
    if (nanos < 0 || nanos > 999_999_999 || seconds < 0) {
      throw new ConfigException(path, "not a valid duration: " + d);
    }
    return nanos == 0 ? seconds + "s" : String.format(java.util.Locale.ROOT, "%d.%09ds", seconds, nanos);
  }

  private void checkField(JsonElement value, FieldDescriptor field, String path) throws ConfigException {
    if (value.isJsonNull()) {
      return;
    }
    if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
      if (!field.isRepeated()) {
        checkScalar(value, field, path);
        return;
      }
      if (!value.isJsonArray()) {
        throw new ConfigException(path, "expected a list, got " + describe(value));
      }
      JsonArray array = value.getAsJsonArray();
      for (int i = 0; i < array.size(); i++) {
        checkScalar(array.get(i), field, path + "[" + i + "]");
      }
      return;
    }
    if (field.isMapField()) {
      if (!value.isJsonObject()) {
        throw new ConfigException(path, "expected a map, got " + describe(value));
      }
      FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
      if (valueField.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
          check(e.getValue(), valueField.getMessageType(), path + "[" + e.getKey() + "]");
        }
      }
      return;
    }
    if (field.isRepeated()) {
      if (!value.isJsonArray()) {
        throw new ConfigException(path, "expected a list, got " + describe(value));
      }
      JsonArray array = value.getAsJsonArray();
      for (int i = 0; i < array.size(); i++) {
        check(array.get(i), field.getMessageType(), path + "[" + i + "]");
      }
      return;
    }
    check(value, field.getMessageType(), path);
  }

  private void checkAny(JsonElement element, String path) throws ConfigException {
    if (!element.isJsonObject()) {
      throw new ConfigException(path, "expected an object with \"@type\", got " + describe(element));
    }
    JsonObject object = element.getAsJsonObject();
    JsonElement typeUrl = object.get("@type");
    if (typeUrl == null || !typeUrl.isJsonPrimitive()) {
      throw new ConfigException(path, "missing \"@type\"");
    }
    String url = typeUrl.getAsString();
    int slash = url.lastIndexOf('/');
    if (slash < 0) {
      throw new ConfigException(join(path, "@type"), "malformed type URL " + url);
    }
    Descriptor type = registry.find(url.substring(slash + 1));
    if (type == null) {
      if (allowUnknown) {
        // the extension is dropped for an empty placeholder; its compiler then skips it (HTTP filters) or says why not
        warnings.add(join(path, "@type") + ": unknown or unsupported type " + url
            + ", ignored (--allow-unknown-static-fields)");
        for (String key : new ArrayList<>(object.keySet())) {
          object.remove(key);
        }
        object.addProperty("@type", "type.googleapis.com/google.protobuf.Empty");
        return;
      }
      throw new ConfigException(join(path, "@type"), "unknown or unsupported type " + url);
    }
    if (type.getFullName().startsWith("google.protobuf.")) {
      return;
    }
    JsonObject rest = new JsonObject();
    for (Map.Entry<String, JsonElement> e : object.entrySet()) {
      if (!e.getKey().equals("@type")) {
        rest.add(e.getKey(), e.getValue());
      }
    }
    check(rest, type, path);
    if (allowUnknown) { // carry removals back into the document protobuf will parse
      for (String key : new ArrayList<>(object.keySet())) {
        if (!key.equals("@type") && !rest.has(key)) {
          object.remove(key);
        }
      }
    }
  }

  /**
   * A scalar field's value as protobuf's JSON parser will take it, checked here so that a wrong one is reported with
   * its path: protobuf's own message names only the value ({@code Invalid enum value: MAGLEVV ...}).
   */
  private static void checkScalar(JsonElement value, FieldDescriptor field, String path) throws ConfigException {
    if (value.isJsonNull()) {
      return;
    }
    if (!value.isJsonPrimitive()) {
      throw new ConfigException(path, "expected " + expected(field) + ", got " + describe(value));
    }
    JsonPrimitive p = value.getAsJsonPrimitive();
    String text = p.getAsString();
    boolean ok = switch (field.getJavaType()) {
      case BOOLEAN -> p.isBoolean() || text.equals("true") || text.equals("false");
      case INT, LONG -> integerIn(text, field.getType());
      case FLOAT, DOUBLE -> text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity")
          || decimal(text) != null;
      case ENUM -> p.isNumber() ? integerIn(text, FieldDescriptor.Type.INT32)
          : field.getEnumType().findValueByName(text) != null;
      default -> true; // strings and bytes
    };
    if (!ok) {
      throw new ConfigException(path, "expected " + expected(field) + ", got " + describe(value));
    }
  }

  /** Whether {@code text} is an integer in the range of {@code type}, an integral protobuf type. */
  private static boolean integerIn(String text, FieldDescriptor.Type type) {
    int bits = type.getJavaType() == FieldDescriptor.JavaType.LONG ? 64 : 32;
    boolean unsigned = unsigned(type);
    BigInteger min = unsigned ? BigInteger.ZERO : BigInteger.ONE.shiftLeft(bits - 1).negate();
    BigInteger max = BigInteger.ONE.shiftLeft(unsigned ? bits : bits - 1).subtract(BigInteger.ONE);
    BigDecimal d = decimal(text);
    if (d == null) {
      return false;
    }
    try {
      BigInteger i = d.toBigIntegerExact();
      return i.compareTo(min) >= 0 && i.compareTo(max) <= 0;
    } catch (ArithmeticException e) {
      return false; // a fraction
    }
  }

  private static boolean unsigned(FieldDescriptor.Type type) {
    return type == FieldDescriptor.Type.UINT32 || type == FieldDescriptor.Type.FIXED32
        || type == FieldDescriptor.Type.UINT64 || type == FieldDescriptor.Type.FIXED64;
  }

  private static @Nullable BigDecimal decimal(String text) {
    try {
      return new BigDecimal(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String expected(FieldDescriptor field) {
    return switch (field.getType()) {
      case BOOL -> "true or false";
      case UINT32, FIXED32, UINT64, FIXED64, INT32, SINT32, SFIXED32, INT64, SINT64, SFIXED64 ->
          unsigned(field.getType()) ? "an unsigned integer" : "an integer";
      case FLOAT, DOUBLE -> "a number";
      case ENUM -> "one of " + enumNames(field.getEnumType()) + " (" + field.getEnumType().getFullName() + ")";
      default -> "a string";
    };
  }

  private static String enumNames(com.google.protobuf.Descriptors.EnumDescriptor type) {
    StringBuilder b = new StringBuilder();
    for (var v : type.getValues()) {
      b.append(b.length() == 0 ? "" : ", ").append(v.getName());
    }
    return b.toString();
  }

  private static FieldDescriptor findField(Descriptor type, String key) {
    FieldDescriptor f = type.findFieldByName(key);
    if (f != null) {
      return f;
    }
    for (FieldDescriptor candidate : type.getFields()) {
      if (candidate.getJsonName().equals(key)) {
        return candidate;
      }
    }
    return null;
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static String describe(JsonElement e) {
    if (e.isJsonArray()) {
      return "a list";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    return "\"" + e.getAsString() + "\"";
  }
}
