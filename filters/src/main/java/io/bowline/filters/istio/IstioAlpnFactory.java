package io.bowline.filters.istio;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.IstioTypes;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code istio.alpn} ({@code istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig}), on a sidecar's outbound
 * connection managers: the upstream mTLS connection offers Istio's ALPN values for the protocol it will carry —
 * {@code istio-http/1.1, istio, http/1.1} or {@code istio-h2, istio, h2} — instead of the cluster's
 * {@code istio-peer-exchange, istio}, so the peer sidecar's inbound listener picks its HTTP filter chain, not the TCP
 * one. Connections offering different protocols are pooled apart.
 */
public final class IstioAlpnFactory implements HttpFilterFactory<DynamicMessage> {
  @Override
  public String name() {
    return "istio.alpn";
  }

  @Override
  public String configTypeName() {
    return IstioTypes.ALPN_FILTER_CONFIG.getFullName();
  }

  @Override
  public Class<DynamicMessage> configType() {
    return DynamicMessage.class;
  }

  @Override
  public DynamicMessage defaultConfig() {
    return DynamicMessage.getDefaultInstance(IstioTypes.ALPN_FILTER_CONFIG);
  }

  @Override
  public DynamicMessage parse(Any typedConfig) throws InvalidProtocolBufferException {
    return DynamicMessage.parseFrom(IstioTypes.ALPN_FILTER_CONFIG, typedConfig.getValue());
  }

  @Override
  public HttpFilterProvider create(DynamicMessage config, FactoryContext context) throws ConfigException {
    FieldDescriptor overrides = IstioTypes.ALPN_FILTER_CONFIG.findFieldByName("alpn_override");
    List<String> http10 = null;
    List<String> http11 = null;
    List<String> http2 = null;
    for (int i = 0; i < config.getRepeatedFieldCount(overrides); i++) {
      DynamicMessage o = (DynamicMessage) config.getRepeatedField(overrides, i);
      var d = o.getDescriptorForType();
      String protocol = ((EnumValueDescriptor) o.getField(d.findFieldByName("upstream_protocol"))).getName();
      FieldDescriptor values = d.findFieldByName("alpn_override");
      List<String> list = new ArrayList<>();
      for (int j = 0; j < o.getRepeatedFieldCount(values); j++) {
        String v = (String) o.getRepeatedField(values, j);
        if (v.isEmpty() || v.length() > 255) {
          throw new ConfigException(context.fieldPath() + ".typed_config.alpn_override[" + i + "].alpn_override["
              + j + "]", "an ALPN protocol name is 1 to 255 bytes");
        }
        list.add(v);
      }
      List<String> value = list.isEmpty() ? null : List.copyOf(list);
      switch (protocol) {
        case "HTTP10" -> http10 = value;
        case "HTTP11" -> http11 = value;
        default -> http2 = value;
      }
    }
    HttpFilterCallbacks.UpstreamAlpn table = new HttpFilterCallbacks.UpstreamAlpn(http10, http11, http2);
    return callbacks -> new HttpFilter() {
      @Override
      public FilterStatus onRequestHeaders(io.netty.handler.codec.http.HttpRequest request, boolean endStream) {
        callbacks.overrideUpstreamAlpn(table);
        return FilterStatus.CONTINUE;
      }
    };
  }
}
