package io.bowline.filters;

import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.filter.HttpFilterFactory;
import java.util.List;

/**
 * The explicit list of HTTP filter extensions compiled into the binary. The router is built into the connection
 * manager; each extension added later (jwt_authn, rbac, fault, ...) gets a package here and one line in this list.
 */
public final class BuiltinFilters {
  private BuiltinFilters() {}

  public static List<HttpFilterFactory<?>> factories() {
    return List.of(new io.bowline.filters.fault.FaultFilterFactory(), new io.bowline.filters.cors.CorsFilterFactory(),
        new io.bowline.filters.ratelimit.LocalRateLimitFactory(),
        new io.bowline.filters.ratelimit.GlobalRateLimitFactory(), new io.bowline.filters.istio.IstioStatsFactory(),
        new io.bowline.filters.istio.PeerMetadataFactory(), new io.bowline.filters.rbac.RbacFilterFactory(),
        new io.bowline.filters.rbac.NetworkRbacFactory(), new io.bowline.filters.jwt.JwtAuthnFactory(),
        new io.bowline.filters.extauthz.ExtAuthzFactory(), new io.bowline.filters.istio.NetworkAuthnFactory(),
        new io.bowline.filters.metadata.SetMetadataFactory(),
        new io.bowline.filters.extauthz.NetworkExtAuthzFactory(), new io.bowline.filters.istio.IstioAlpnFactory(),
        new io.bowline.filters.istio.NullVmWasmFactory(), new io.bowline.filters.grpcstats.GrpcStatsFactory(),
        new io.bowline.filters.istio.TcpMetadataExchangeFactory());
  }

  public static FilterRegistry registry() {
    return new FilterRegistry(factories());
  }
}
