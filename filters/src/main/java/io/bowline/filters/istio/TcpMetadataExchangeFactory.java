package io.bowline.filters.istio;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.bowline.core.filter.ConnectionGate;
import io.bowline.core.filter.ConnectionInfo;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.IstioTypes;
import io.netty.channel.ChannelHandler;
import org.jspecify.annotations.Nullable;

/**
 * {@code istio.metadata_exchange} as a network filter ({@code envoy.tcp.metadataexchange.config.MetadataExchange}),
 * on an Istio inbound TCP chain: when the client negotiated the configured ALPN protocol (Istio's
 * {@code istio-peer-exchange}), each side opens its byte stream with a preamble — magic {@code 0x3D230467}, a length,
 * and a protobuf Any holding a Struct with {@code x-envoy-peer-metadata} (the node's metadata) and
 * {@code x-envoy-peer-metadata-id} (the node's id). This proxy sends its own first and takes the client's off the
 * stream before the terminal filter sees it; with any other ALPN it stays out of the way.
 */
public final class TcpMetadataExchangeFactory implements HttpFilterFactory<DynamicMessage> {
  @Override
  public String name() {
    return "istio.metadata_exchange";
  }

  @Override
  public String configTypeName() {
    return IstioTypes.TCP_METADATA_EXCHANGE.getFullName();
  }

  @Override
  public Class<DynamicMessage> configType() {
    return DynamicMessage.class;
  }

  @Override
  public DynamicMessage defaultConfig() {
    return DynamicMessage.getDefaultInstance(IstioTypes.TCP_METADATA_EXCHANGE);
  }

  @Override
  public DynamicMessage parse(Any typedConfig) throws InvalidProtocolBufferException {
    return DynamicMessage.parseFrom(IstioTypes.TCP_METADATA_EXCHANGE, typedConfig.getValue());
  }

  @Override
  public HttpFilterProvider create(DynamicMessage config, FactoryContext context) throws ConfigException {
    throw new ConfigException(context.fieldPath() + ".typed_config", "envoy.tcp.metadataexchange.config."
        + "MetadataExchange is a network filter: it goes in filter_chains[].filters (Istio's HTTP exchange is "
        + "io.istio.http.peer_metadata.Config)");
  }

  @Override
  public ConnectionGate connectionGate(DynamicMessage config, FactoryContext context) throws ConfigException {
    FieldDescriptor protocolField = IstioTypes.TCP_METADATA_EXCHANGE.findFieldByName("protocol");
    String protocol = (String) config.getField(protocolField);
    if (protocol.isEmpty()) {
      throw new ConfigException(context.fieldPath() + ".typed_config.protocol", "required (istio-peer-exchange)");
    }
    byte[] preamble = TcpMetadataExchange.preamble(ownMetadata(context));
    return new ConnectionGate() {
      @Override
      public boolean admit(ConnectionInfo connection) {
        return true;
      }

      @Override
      public @Nullable ChannelHandler handler(ConnectionInfo connection, @Nullable String alpn) {
        return protocol.equals(alpn) ? new TcpMetadataExchange(preamble) : null;
      }
    };
  }

  /** What this proxy tells its peers: its node metadata and id, as Istio's proxies do. */
  static Struct ownMetadata(FactoryContext context) {
    return Struct.newBuilder()
        .putFields(TcpMetadataExchange.METADATA, Value.newBuilder()
            .setStructValue(context.listener().nodeMetadata()).build())
        .putFields(TcpMetadataExchange.METADATA_ID, Value.newBuilder()
            .setStringValue(context.listener().nodeId()).build())
        .build();
  }
}
