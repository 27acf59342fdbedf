package io.bowline.xds.bootstrap;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads an Envoy v3 bootstrap from YAML or JSON into Envoy's own {@link Bootstrap} proto, rejecting unknown fields
 * by their path. Format follows Envoy's {@code -c}: {@code .yaml}/{@code .yml} are YAML, anything else JSON.
 */
public final class BootstrapLoader {
  public enum Format { YAML, JSON }

  /** A parsed bootstrap and the warnings produced while reading it (unknown fields when they are allowed). */
  public record Loaded(Bootstrap bootstrap, List<String> warnings) {}

  private final boolean allowUnknownFields;

  public BootstrapLoader(boolean allowUnknownFields) {
    this.allowUnknownFields = allowUnknownFields;
  }

  public static Format formatOf(Path file) {
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    return name.endsWith(".yaml") || name.endsWith(".yml") ? Format.YAML : Format.JSON;
  }

  public Loaded loadFile(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage(), e);
    }
    return parse(text, formatOf(file));
  }

  public Loaded parse(String text, Format format) throws ConfigException {
    JsonElement json = format == Format.YAML ? yamlToJson(text) : jsonTree(text);
    if (json.isJsonNull()) {
      return new Loaded(Bootstrap.getDefaultInstance(), List.of());
    }
    ProtoJsonChecker checker = new ProtoJsonChecker(EnvoyTypes.registry(), allowUnknownFields);
    checker.check(json, Bootstrap.getDescriptor(), "");
    // parsed by descriptors into a DynamicMessage, then decoded into Envoy's generated classes: JSON parsing through
    // the generated builders initialises reflection tables that load every field type of every message touched
    // (~1,000 classes for a small bootstrap), where decoding the binary form loads only the types that are present
    com.google.protobuf.DynamicMessage.Builder dynamic =
        com.google.protobuf.DynamicMessage.newBuilder(Bootstrap.getDescriptor());
    try {
      JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).merge(new Gson().toJson(json), dynamic);
      return new Loaded(Bootstrap.parseFrom(dynamic.build().toByteString()), List.copyOf(checker.warnings()));
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException("", "invalid bootstrap: " + e.getMessage(), e);
    }
  }

  /**
   * Any Envoy API message from YAML, with the same unknown-field check as the bootstrap (used for resources given
   * as text, e.g. to a test's xDS server).
   */
  public static <B extends com.google.protobuf.Message.Builder> B mergeYaml(String text, B builder)
      throws ConfigException {
    JsonElement json = yamlToJson(text);
    new ProtoJsonChecker(EnvoyTypes.registry(), false).check(json, builder.getDescriptorForType(), "");
    try {
      JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).merge(new Gson().toJson(json), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException("", "invalid " + builder.getDescriptorForType().getName() + ": " + e.getMessage(), e);
    }
    return builder;
  }

  private static JsonElement jsonTree(String text) throws ConfigException {
    try {
      return JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw new ConfigException("", "invalid JSON: " + e.getMessage(), e);
    }
  }

  private static JsonElement yamlToJson(String text) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(50); // billion-laughs guard
    options.setAllowDuplicateKeys(false);
    try {
      Object tree = new Yaml(new SafeConstructor(options)).load(text);
      return toJson(tree);
    } catch (YAMLException e) {
      throw new ConfigException("", "invalid YAML: " + e.getMessage(), e);
    }
  }

  private static JsonElement toJson(Object node) {
    if (node == null) {
      return JsonNull.INSTANCE;
    }
    if (node instanceof Map<?, ?> map) {
      JsonObject object = new JsonObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        object.add(String.valueOf(e.getKey()), toJson(e.getValue()));
      }
      return object;
    }
    if (node instanceof List<?> list) {
      JsonArray array = new JsonArray();
      for (Object item : new ArrayList<>(list)) {
        array.add(toJson(item));
      }
      return array;
    }
    if (node instanceof Boolean b) {
      return new JsonPrimitive(b);
    }
    if (node instanceof Number n) {
      return new JsonPrimitive(n);
    }
    if (node instanceof Date d) {
      return new JsonPrimitive(d.toInstant().toString());
    }
    return new JsonPrimitive(String.valueOf(node));
  }
}
