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

  private final IstioStatsProvider provider;
  private @Nullable Workload downstreamPeer;
  private @Nullable Workload upstreamPeer;

  IstioStatsFilter(IstioStatsProvider provider) {
    this.provider = provider;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
    if (provider.role() != IstioStatsProvider.Role.SOURCE) {
      String md = request.headers().get(PEER_METADATA);
      if (md != null) {
        downstreamPeer = provider.loop().peer(md);
      }
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    if (provider.role() != IstioStatsProvider.Role.DESTINATION) {
      String md = response.headers().get(PEER_METADATA);
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
