package io.bowline.filters.istio;

import com.google.protobuf.Any;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.ConnectionGate;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.tls.Certificates;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.IstioTypes;
import javax.net.ssl.SSLSession;

/**
 * {@code istio_authn} ({@code io.istio.network.authn.Config}), the network filter of Istio's inbound mTLS chains:
 * it puts the client certificate's SPIFFE id in the connection's filter state as {@code io.istio.peer_principal}
 * (and this proxy's own as {@code io.istio.local_principal}), where Istio's RBAC principals
 * ({@code filter_state: {key: io.istio.peer_principal}}) look for {@code source.principals}. It never refuses.
 */
public final class NetworkAuthnFactory implements HttpFilterFactory<DynamicMessage> {
  static final String PEER_PRINCIPAL = "io.istio.peer_principal";
  static final String LOCAL_PRINCIPAL = "io.istio.local_principal";

  @Override
  public String name() {
    return "istio_authn";
  }

  @Override
  public String configTypeName() {
    return IstioTypes.NETWORK_AUTHN_CONFIG.getFullName();
  }

  @Override
  public Class<DynamicMessage> configType() {
    return DynamicMessage.class;
  }

  @Override
  public DynamicMessage defaultConfig() {
    return DynamicMessage.getDefaultInstance(IstioTypes.NETWORK_AUTHN_CONFIG);
  }

  @Override
  public DynamicMessage parse(Any typedConfig) throws InvalidProtocolBufferException {
    return DynamicMessage.parseFrom(IstioTypes.NETWORK_AUTHN_CONFIG, typedConfig.getValue());
  }

  @Override
  public HttpFilterProvider create(DynamicMessage config, FactoryContext context) throws ConfigException {
    throw new ConfigException(context.fieldPath() + ".typed_config",
        "istio_authn is a network filter: it goes in filter_chains[].filters");
  }

  @Override
  public ConnectionGate connectionGate(DynamicMessage config, FactoryContext context) {
    return connection -> {
      SSLSession tls = connection.tls();
      if (tls != null) {
        String peer = IstioStatsProvider.uriSan(Certificates.peer(tls)); // none without a client certificate
        if (peer != null) {
          connection.filterState().put(PEER_PRINCIPAL, peer);
        }
        String own = IstioStatsProvider.uriSan(Certificates.local(tls));
        if (own != null) {
          connection.filterState().put(LOCAL_PRINCIPAL, own);
        }
      }
      return true;
    };
  }
}
