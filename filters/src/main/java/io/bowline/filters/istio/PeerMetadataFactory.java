package io.bowline.filters.istio;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.IstioTypes;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * {@code istio.metadata_exchange} ({@code io.istio.http.peer_metadata.Config}): Istio's HTTP metadata exchange with
 * the {@code istio_headers} method. Discovery takes the peer's {@code x-envoy-peer-metadata} (and {@code -id}) off
 * the request (downstream peer) or the response (upstream peer) and keeps it in filter state for {@code istio.stats};
 * propagation sends this proxy's own metadata on the request to the upstream and on the response to the downstream.
 * {@code workload_discovery} looks peers up in Istio's workload metadata xDS, which bowline does not subscribe to:
 * that method finds nothing and the next one is tried, as when the lookup misses.
 */
public final class PeerMetadataFactory implements HttpFilterFactory<DynamicMessage> {
  /** Filter-state keys under which the discovered peers' header values are kept. */
  static final String DOWNSTREAM_PEER = "downstream_peer";
  static final String UPSTREAM_PEER = "upstream_peer";

  @Override
  public String name() {
    return "istio.metadata_exchange";
  }

  @Override
  public String configTypeName() {
    return IstioTypes.PEER_METADATA_CONFIG.getFullName();
  }

  @Override
  public Class<DynamicMessage> configType() {
    return DynamicMessage.class;
  }

  @Override
  public DynamicMessage defaultConfig() {
    return DynamicMessage.getDefaultInstance(IstioTypes.PEER_METADATA_CONFIG);
  }

  @Override
  public DynamicMessage parse(Any typedConfig) throws InvalidProtocolBufferException {
    return DynamicMessage.parseFrom(IstioTypes.PEER_METADATA_CONFIG, typedConfig.getValue());
  }

  @Override
  public HttpFilterProvider create(DynamicMessage config, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    boolean downstreamHeaders = discovers(config, "downstream_discovery", path);
    boolean upstreamHeaders = discovers(config, "upstream_discovery", path);
    boolean toDownstream = propagates(config, "downstream_propagation");
    boolean toUpstream = propagates(config, "upstream_propagation");
    String self = Workload.header(context.listener().nodeMetadata());
    String selfId = context.listener().nodeId();
    return callbacks -> new Exchange(callbacks, downstreamHeaders, upstreamHeaders, toDownstream, toUpstream, self,
        selfId);
  }

  /**
   * Istio's older metadata exchange (the Wasm null-VM plugin {@code envoy.wasm.metadata_exchange}): the exchange
   * headers read and written both ways.
   */
  static HttpFilterProvider headersBothWays(FactoryContext context) {
    String self = Workload.header(context.listener().nodeMetadata());
    String selfId = context.listener().nodeId();
    return callbacks -> new Exchange(callbacks, true, true, true, true, self, selfId);
  }

  /** Whether the discovery list has istio_headers; baggage (deprecated) is refused by its field. */
  private static boolean discovers(Message config, String field, String path) throws ConfigException {
    FieldDescriptor f = config.getDescriptorForType().findFieldByName(field);
    boolean headers = false;
    for (int i = 0; i < config.getRepeatedFieldCount(f); i++) {
      Message method = (Message) config.getRepeatedField(f, i);
      for (var e : method.getAllFields().entrySet()) {
        switch (e.getKey().getName()) {
          case "istio_headers" -> headers = true;
          case "workload_discovery" -> { } // no workload metadata xDS here: never finds a peer
          default -> throw new ConfigException(path + "." + field + "[" + i + "]." + e.getKey().getName(),
              "not supported by bowline yet (istio_headers and workload_discovery are)");
        }
      }
    }
    return headers;
  }

  private static boolean propagates(Message config, String field) {
    FieldDescriptor f = config.getDescriptorForType().findFieldByName(field);
    return config.getRepeatedFieldCount(f) > 0; // istio_headers is the only propagation method
  }

  /** One stream's exchange. */
  private static final class Exchange implements HttpFilter {
    private final HttpFilterCallbacks callbacks;
    private final boolean downstreamHeaders;
    private final boolean upstreamHeaders;
    private final boolean toDownstream;
    private final boolean toUpstream;
    private final String self;
    private final String selfId;

    Exchange(HttpFilterCallbacks callbacks, boolean downstreamHeaders, boolean upstreamHeaders, boolean toDownstream,
        boolean toUpstream, String self, String selfId) {
      this.callbacks = callbacks;
      this.downstreamHeaders = downstreamHeaders;
      this.upstreamHeaders = upstreamHeaders;
      this.toDownstream = toDownstream;
      this.toUpstream = toUpstream;
      this.self = self;
      this.selfId = selfId;
    }

    @Override
    public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
      HttpHeaders h = request.headers();
      if (downstreamHeaders) {
        take(h, DOWNSTREAM_PEER);
      }
      if (toUpstream) {
        put(h);
      }
      return FilterStatus.CONTINUE;
    }

    @Override
    public void onResponseHeaders(HttpResponse response) {
      HttpHeaders h = response.headers();
      if (upstreamHeaders) {
        take(h, UPSTREAM_PEER);
      }
      if (toDownstream) {
        put(h);
      }
    }

    /** The peer's metadata into filter state; the exchange headers never travel further. */
    private void take(HttpHeaders h, String key) {
      String md = h.get(IstioStatsFilter.PEER_METADATA);
      if (md != null) {
        callbacks.setFilterState(key, md);
        h.remove(IstioStatsFilter.PEER_METADATA);
      }
      h.remove(IstioStatsFilter.PEER_METADATA_ID);
    }

    private void put(HttpHeaders h) {
      h.set(IstioStatsFilter.PEER_METADATA, self);
      h.set(IstioStatsFilter.PEER_METADATA_ID, selfId);
    }
  }
}
