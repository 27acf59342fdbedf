package io.bowline.xds.bootstrap;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.util.List;

/**
 * Istio's own extension config types, which istiod sends beside Envoy's but which no Java artifact publishes:
 * {@code stats.PluginConfig} (the {@code istio.stats} filter) and {@code io.istio.http.peer_metadata.Config} (the
 * {@code istio.metadata_exchange} filter). Their descriptors are declared here, with the field
 * numbers of Istio's .proto files, so that the same bytes and JSON parse; the filters read them as
 * {@link com.google.protobuf.DynamicMessage}s.
 */
public final class IstioTypes {
  private IstioTypes() {}

  /** {@code stats.PluginConfig} (istio/proxy extensions/filters/http/istio_stats/config.proto). */
  public static final Descriptor STATS_PLUGIN_CONFIG;
  /** {@code io.istio.http.peer_metadata.Config} (istio/proxy source/extensions/filters/http/peer_metadata). */
  public static final Descriptor PEER_METADATA_CONFIG;
  /**
   * {@code io.istio.network.authn.Config}: Istio's inbound network authn filter; {@code shared} (waypoints) shares
   * the principals with the connections of an internal listener behind it.
   */
  public static final Descriptor NETWORK_AUTHN_CONFIG;
  /**
   * {@code envoy.tcp.metadataexchange.config.MetadataExchange}: Istio's TCP metadata exchange, also the configuration
   * of the null-VM HTTP exchange plugin.
   */
  public static final Descriptor TCP_METADATA_EXCHANGE;
  /** {@code istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig}: the istio.alpn filter's overrides. */
  public static final Descriptor ALPN_FILTER_CONFIG;

  static {
    FileDescriptorProto stats = FileDescriptorProto.newBuilder()
        .setName("bowline/istio/stats/config.proto")
        .setPackage("stats")
        .setSyntax("proto3")
        .addDependency("google/protobuf/duration.proto")
        .addMessageType(DescriptorProto.newBuilder().setName("MetricConfig")
            .addField(map("dimensions", 1, ".stats.MetricConfig.DimensionsEntry"))
            .addField(field("name", 2, Type.TYPE_STRING))
            .addField(repeated("tags_to_remove", 3, Type.TYPE_STRING))
            .addField(field("match", 4, Type.TYPE_STRING))
            .addField(field("drop", 5, Type.TYPE_BOOL))
            .addNestedType(DescriptorProto.newBuilder().setName("DimensionsEntry")
                .setOptions(MessageOptions.newBuilder().setMapEntry(true))
                .addField(field("key", 1, Type.TYPE_STRING))
                .addField(field("value", 2, Type.TYPE_STRING))))
        .addMessageType(DescriptorProto.newBuilder().setName("MetricDefinition")
            .addField(field("name", 1, Type.TYPE_STRING))
            .addField(field("value", 2, Type.TYPE_STRING))
            .addField(enumField("type", 3, ".stats.MetricType")))
        .addMessageType(DescriptorProto.newBuilder().setName("PluginConfig")
            .addField(field("disable_host_header_fallback", 6, Type.TYPE_BOOL))
            .addField(message("tcp_reporting_duration", 7, ".google.protobuf.Duration"))
            .addField(repeatedMessage("metrics", 8, ".stats.MetricConfig"))
            .addField(repeatedMessage("definitions", 9, ".stats.MetricDefinition"))
            .addField(enumField("reporter", 10, ".stats.Reporter"))
            .addField(message("rotation_interval", 11, ".google.protobuf.Duration"))
            .addField(message("graceful_deletion_interval", 12, ".google.protobuf.Duration")))
        .addEnumType(enumType("MetricType", "COUNTER", "GAUGE", "HISTOGRAM"))
        .addEnumType(enumType("Reporter", "UNSPECIFIED", "SERVER_GATEWAY"))
        .build();
    String c = ".io.istio.http.peer_metadata.Config.";
    FileDescriptorProto peer = FileDescriptorProto.newBuilder()
        .setName("bowline/istio/peer_metadata/config.proto")
        .setPackage("io.istio.http.peer_metadata")
        .setSyntax("proto3")
        .addMessageType(DescriptorProto.newBuilder().setName("Config")
            .addNestedType(DescriptorProto.newBuilder().setName("Baggage"))
            .addNestedType(DescriptorProto.newBuilder().setName("WorkloadDiscovery"))
            .addNestedType(DescriptorProto.newBuilder().setName("IstioHeaders")
                .addField(field("skip_external_clusters", 1, Type.TYPE_BOOL)))
            .addNestedType(DescriptorProto.newBuilder().setName("DiscoveryMethod")
                .addOneofDecl(com.google.protobuf.DescriptorProtos.OneofDescriptorProto.newBuilder()
                    .setName("method_specifier"))
                .addField(message("baggage", 1, c + "Baggage").toBuilder().setOneofIndex(0))
                .addField(message("workload_discovery", 2, c + "WorkloadDiscovery").toBuilder().setOneofIndex(0))
                .addField(message("istio_headers", 3, c + "IstioHeaders").toBuilder().setOneofIndex(0)))
            .addNestedType(DescriptorProto.newBuilder().setName("PropagationMethod")
                .addOneofDecl(com.google.protobuf.DescriptorProtos.OneofDescriptorProto.newBuilder()
                    .setName("method_specifier"))
                .addField(message("istio_headers", 1, c + "IstioHeaders").toBuilder().setOneofIndex(0)))
            .addField(repeatedMessage("downstream_discovery", 1, c + "DiscoveryMethod"))
            .addField(repeatedMessage("upstream_discovery", 2, c + "DiscoveryMethod"))
            .addField(repeatedMessage("downstream_propagation", 3, c + "PropagationMethod"))
            .addField(repeatedMessage("upstream_propagation", 4, c + "PropagationMethod"))
            .addField(field("shared_with_upstream", 5, Type.TYPE_BOOL))
            .addField(repeated("additional_labels", 6, Type.TYPE_STRING)))
        .build();
    try {
      FileDescriptor file = FileDescriptor.buildFrom(stats,
          new FileDescriptor[] {com.google.protobuf.DurationProto.getDescriptor()});
      STATS_PLUGIN_CONFIG = file.findMessageTypeByName("PluginConfig");
      PEER_METADATA_CONFIG = FileDescriptor.buildFrom(peer, new FileDescriptor[0]).findMessageTypeByName("Config");
      NETWORK_AUTHN_CONFIG = FileDescriptor.buildFrom(FileDescriptorProto.newBuilder()
          .setName("bowline/istio/network_authn/config.proto").setPackage("io.istio.network.authn").setSyntax("proto3")
          .addMessageType(DescriptorProto.newBuilder().setName("Config")
              .addField(field("shared", 1, Type.TYPE_BOOL))).build(), new FileDescriptor[0])
          .findMessageTypeByName("Config");
      TCP_METADATA_EXCHANGE = FileDescriptor.buildFrom(FileDescriptorProto.newBuilder()
          .setName("bowline/istio/metadata_exchange/config.proto").setPackage("envoy.tcp.metadataexchange.config")
          .setSyntax("proto3")
          .addMessageType(DescriptorProto.newBuilder().setName("MetadataExchange")
              .addField(field("protocol", 1, Type.TYPE_STRING))
              .addField(field("enable_discovery", 2, Type.TYPE_BOOL))
              .addField(repeated("additional_labels", 3, Type.TYPE_STRING))).build(), new FileDescriptor[0])
          .findMessageTypeByName("MetadataExchange");
      String a = ".istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig.";
      ALPN_FILTER_CONFIG = FileDescriptor.buildFrom(FileDescriptorProto.newBuilder()
          .setName("bowline/istio/alpn/config.proto").setPackage("istio.envoy.config.filter.http.alpn.v2alpha1")
          .setSyntax("proto3")
          .addMessageType(DescriptorProto.newBuilder().setName("FilterConfig")
              .addEnumType(enumType("Protocol", "HTTP10", "HTTP11", "HTTP2"))
              .addNestedType(DescriptorProto.newBuilder().setName("AlpnOverride")
                  .addField(enumField("upstream_protocol", 1, a + "Protocol"))
                  .addField(repeated("alpn_override", 2, Type.TYPE_STRING)))
              .addField(repeatedMessage("alpn_override", 1, a + "AlpnOverride"))).build(), new FileDescriptor[0])
          .findMessageTypeByName("FilterConfig");
    } catch (DescriptorValidationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Every Istio type, for the JSON type registry. */
  public static List<Descriptor> all() {
    return List.of(STATS_PLUGIN_CONFIG, PEER_METADATA_CONFIG, NETWORK_AUTHN_CONFIG, ALPN_FILTER_CONFIG,
        TCP_METADATA_EXCHANGE);
  }

  private static FieldDescriptorProto.Builder base(String name, int number) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setJsonName(jsonName(name))
        .setLabel(Label.LABEL_OPTIONAL);
  }

  private static FieldDescriptorProto field(String name, int number, Type type) {
    return base(name, number).setType(type).build();
  }

  private static FieldDescriptorProto repeated(String name, int number, Type type) {
    return base(name, number).setType(type).setLabel(Label.LABEL_REPEATED).build();
  }

  private static FieldDescriptorProto message(String name, int number, String typeName) {
    return base(name, number).setType(Type.TYPE_MESSAGE).setTypeName(typeName).build();
  }

  private static FieldDescriptorProto repeatedMessage(String name, int number, String typeName) {
    return base(name, number).setType(Type.TYPE_MESSAGE).setTypeName(typeName).setLabel(Label.LABEL_REPEATED)
        .build();
  }

  private static FieldDescriptorProto map(String name, int number, String entryType) {
    return repeatedMessage(name, number, entryType);
  }

  private static FieldDescriptorProto enumField(String name, int number, String typeName) {
    return base(name, number).setType(Type.TYPE_ENUM).setTypeName(typeName).build();
  }

  private static EnumDescriptorProto enumType(String name, String... values) {
    EnumDescriptorProto.Builder b = EnumDescriptorProto.newBuilder().setName(name);
    for (int i = 0; i < values.length; i++) {
      b.addValue(EnumValueDescriptorProto.newBuilder().setName(values[i]).setNumber(i));
    }
    return b.build();
  }

  private static String jsonName(String name) {
    StringBuilder sb = new StringBuilder();
    boolean upper = false;
    for (char c : name.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        sb.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return sb.toString();
  }
}
