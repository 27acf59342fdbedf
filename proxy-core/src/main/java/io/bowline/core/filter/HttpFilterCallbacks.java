package io.bowline.core.filter;

import io.bowline.core.router.Route;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

/** What a filter may ask of its stream. All calls must be made on {@link #eventLoop()}. */
public interface HttpFilterCallbacks {
  EventLoop eventLoop();

  /** The route selected for the stream, or null when none matched. */
  @Nullable Route route();

  /** The selected route's per-filter config for the filter named {@code filterName} (its HCM name), or null. */
  @Nullable Object perRouteConfig(String filterName);

  /** Re-select the route after a filter changed the headers routing looks at. */
  void clearRouteCache();

  /** Resume a stream held by STOP_ITERATION. */
  void continueRequest();

  /**
   * Answer the request from the proxy. For a gRPC request the reply is trailers-only with the gRPC status that Envoy
   * maps from {@code status}, unless {@code grpcStatus} is given.
   */
  void sendLocalReply(int status, String body, @Nullable Integer grpcStatus, String responseFlag, String details);
}
