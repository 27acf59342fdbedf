package io.bowline.filters.istio;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import com.google.protobuf.util.JsonFormat;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.IstioTypes;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;

/**
 * {@code envoy.filters.http.wasm} as Istio up to 1.18 sends it: the null VM ({@code envoy.wasm.runtime.null}) running
 * one of the plugins compiled into Istio's proxy — {@code envoy.wasm.metadata_exchange} (the exchange headers both
 * ways, as {@code istio.metadata_exchange} does) or {@code envoy.wasm.stats} (Istio's metrics, its JSON configuration
 * read as {@code stats.PluginConfig}). These are native code in Envoy too; real Wasm modules are refused by field.
 */
public final class NullVmWasmFactory implements HttpFilterFactory<Wasm> {
  static final String NULL_VM = "envoy.wasm.runtime.null";

  @Override
  public String name() {
    return "envoy.filters.http.wasm";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.wasm.v3.Wasm";
  }

  @Override
  public Class<Wasm> configType() {
    return Wasm.class;
  }

  @Override
  public Wasm defaultConfig() {
    return Wasm.getDefaultInstance();
  }

  @Override
  public HttpFilterProvider create(Wasm config, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config.config";
    var plugin = config.getConfig();
    var vm = plugin.getVmConfig();
    if (!vm.getRuntime().equals(NULL_VM)) {
      throw new ConfigException(path + ".vm_config.runtime", "Wasm modules are not supported by bowline; Istio's "
          + "built-in null-VM plugins (envoy.wasm.metadata_exchange, envoy.wasm.stats) are");
    }
    String code = vm.getCode().hasLocal() ? vm.getCode().getLocal().getInlineString() : "";
    switch (code) {
      case "envoy.wasm.metadata_exchange":
        return PeerMetadataFactory.headersBothWays(context);
      case "envoy.wasm.stats":
        return new IstioStatsFactory().create(statsConfig(plugin.getConfiguration(), path + ".configuration"),
            context);
      default:
        throw new ConfigException(path + ".vm_config.code.local.inline_string", "'" + code
            + "' is not a null-VM plugin bowline has (envoy.wasm.metadata_exchange, envoy.wasm.stats)");
    }
  }

  /** The stats plugin's configuration: JSON in a StringValue (fields Istio's proto lacks, like debug, are ignored). */
  private static DynamicMessage statsConfig(com.google.protobuf.Any any, String path) throws ConfigException {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(IstioTypes.STATS_PLUGIN_CONFIG);
    if (any.getTypeUrl().isEmpty()) {
      return b.build();
    }
    try {
      if (any.is(StringValue.class)) {
        String json = any.unpack(StringValue.class).getValue();
        if (!json.isBlank()) {
          JsonFormat.parser().ignoringUnknownFields().merge(json, b);
        }
        return b.build();
      }
      if (any.getTypeUrl().endsWith("/" + IstioTypes.STATS_PLUGIN_CONFIG.getFullName())) {
        return DynamicMessage.parseFrom(IstioTypes.STATS_PLUGIN_CONFIG, any.getValue());
      }
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "not a stats.PluginConfig: " + e.getMessage(), e);
    }
    throw new ConfigException(path, "expected the stats plugin's JSON (google.protobuf.StringValue), got "
        + any.getTypeUrl());
  }
}
