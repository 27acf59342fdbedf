package io.bowline.core.config;

import io.bowline.xds.ads.AdsClient;
import io.bowline.xds.ads.XdsTarget;
import io.envoyproxy.envoy.config.core.v3.Node;

/** The bootstrap's {@code dynamic_resources}: one ADS stream to one management server, and what it delivers. */
public record XdsSettings(
    XdsTarget target,
    AdsClient.Mode mode,
    boolean nodeOnFirstMessageOnly,
    Node node,
    boolean lds,
    boolean cds,
    long initialFetchTimeoutMs) {}
