package io.bowline.filters.istio;

import io.bowline.core.accesslog.AccessLogFacts;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import org.jspecify.annotations.Nullable;

/**
 * {@code istio.stats} on one stream: learns the peers from the metadata-exchange headers as they pass, and when the
 * stream ends records Istio's standard metrics under the label set its event loop has resolved for these peers.
 */
final class IstioStatsFilter implements HttpFilter {
  static final String PEER_METADATA = "x-envoy-peer-metadata";
  static final String PEER_METADATA_ID = "x-envoy-peer-metadata-id";
  private static final io.netty.util.AsciiString PEER_METADATA_NAME = io.netty.util.AsciiString.cached(PEER_METADATA);

  private final IstioStatsProvider provider;
  private final io.bowline.core.filter.HttpFilterCallbacks callbacks;
  private @Nullable Workload downstreamPeer;
  private @Nullable Workload upstreamPeer;

  IstioStatsFilter(IstioStatsProvider provider, io.bowline.core.filter.HttpFilterCallbacks callbacks) {
    this.provider = provider;
    this.callbacks = callbacks;
  }

  /** The peer the metadata-exchange filter found (it runs first on requests), else the header itself. */
  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    if (provider.role() != IstioStatsProvider.Role.SOURCE) {
      String md = callbacks.filterState(PeerMetadataFactory.DOWNSTREAM_PEER);
      if (md == null) {
        md = request.headers().get(PEER_METADATA_NAME);
      }
      if (md != null) {
        downstreamPeer = provider.loop().peer(md);
      }
    }
    return FilterStatus.CONTINUE;
  }

  /** On responses this filter runs before the exchange filter, so the header is still there. */
  @Override
  public void onResponseHeaders(HttpResponse response) {
    if (provider.role() != IstioStatsProvider.Role.DESTINATION) {
      String md = response.headers().get(PEER_METADATA_NAME);
      if (md == null) {
        md = callbacks.filterState(PeerMetadataFactory.UPSTREAM_PEER);
      }
      if (md != null) {
        upstreamPeer = provider.loop().peer(md);
      }
    }
  }

  @Override
  public void onLog(AccessLogFacts f) {
    provider.record(f, downstreamPeer, upstreamPeer);
  }
}
