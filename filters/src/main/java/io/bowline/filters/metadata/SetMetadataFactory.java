package io.bowline.filters.metadata;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.http.set_metadata.v3.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code envoy.filters.http.set_metadata}: static values into the stream's dynamic metadata when request headers
 * arrive, for the filters after it (RBAC's metadata matchers, ext_authz's {@code filter_enabled_metadata}, access
 * logs). Envoy's rules: a namespace not yet present is set; a present one is left alone unless
 * {@code allow_overwrite}, and then merged — structs key by key, lists appended, anything else replaced. The
 * deprecated {@code metadata_namespace} / {@code value} pair always merges.
 */
public final class SetMetadataFactory implements HttpFilterFactory<Config> {
  /** One namespace's change. */
  record Change(String namespace, Struct value, boolean allowOverwrite) {}

  @Override
  public String name() {
    return "envoy.filters.http.set_metadata";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.set_metadata.v3.Config";
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Config defaultConfig() {
    return Config.getDefaultInstance();
  }

  @Override
  public HttpFilterProvider create(Config config, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    List<Change> changes = new ArrayList<>();
    if (!config.getMetadataNamespace().isEmpty()) {
      changes.add(new Change(config.getMetadataNamespace(), config.getValue(), true));
    }
    for (int i = 0; i < config.getMetadataCount(); i++) {
      var m = config.getMetadata(i);
      String p = path + ".metadata[" + i + "]";
      if (m.getMetadataNamespace().isEmpty()) {
        throw new ConfigException(p + ".metadata_namespace", "a namespace is required");
      }
      if (m.hasTypedValue()) {
        throw new ConfigException(p + ".typed_value", "typed metadata is not supported by bowline yet; use value");
      }
      changes.add(new Change(m.getMetadataNamespace(), m.getValue(), m.getAllowOverwrite()));
    }
    List<Change> all = List.copyOf(changes);
    return callbacks -> new HttpFilter() {
      @Override
      public FilterStatus onRequestHeaders(io.netty.handler.codec.http.HttpRequest request, boolean endStream) {
        for (Change c : all) {
          Struct old = callbacks.dynamicMetadata(c.namespace());
          if (old == null) {
            callbacks.setDynamicMetadata(c.namespace(), c.value());
          } else if (c.allowOverwrite()) {
            callbacks.setDynamicMetadata(c.namespace(), merge(old, c.value()));
          }
        }
        return FilterStatus.CONTINUE;
      }
    };
  }

  /** {@code add} merged into {@code into}: structs recursively, lists appended, other values replaced. */
  static Struct merge(Struct into, Struct add) {
    Struct.Builder out = into.toBuilder();
    for (Map.Entry<String, Value> e : add.getFieldsMap().entrySet()) {
      Value old = into.getFieldsMap().get(e.getKey());
      Value now = e.getValue();
      if (old != null && old.hasStructValue() && now.hasStructValue()) {
        now = Value.newBuilder().setStructValue(merge(old.getStructValue(), now.getStructValue())).build();
      } else if (old != null && old.hasListValue() && now.hasListValue()) {
        now = Value.newBuilder().setListValue(ListValue.newBuilder(old.getListValue())
            .addAllValues(now.getListValue().getValuesList())).build();
      }
      out.putFields(e.getKey(), now);
    }
    return out.build();
  }
}
