package io.bowline.xds.bootstrap;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.util.JsonFormat;
import java.util.List;

/**
 * The Envoy message types a bootstrap may name in a {@code typed_config} or {@code typed_extension_protocol_options}.
 * Registering a type here only lets it parse; whether the engine supports it is the config compiler's decision, which
 * can then refuse it by name instead of failing with "unknown type URL". Each descriptor also brings every type of its
 * .proto file and of the files it imports.
 */
public final class EnvoyTypes {
  private EnvoyTypes() {}

  private static final List<Descriptor> KNOWN = List.of(
      io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor(),
      io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.getDescriptor(),
      io.envoyproxy.envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig.getDescriptor(),
      io.envoyproxy.envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig.getDescriptor(),
      io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor(),
      io.envoyproxy.envoy.config.route.v3.FilterConfig.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.set_metadata.v3.Config.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterConfig.getDescriptor(),
      com.google.protobuf.StringValue.getDescriptor(),
      io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.ratelimit.v3.RateLimit.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDescriptor(),
      io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor(),
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor(),
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor(),
      io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer.getDescriptor(),
      io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor(),
      io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog.getDescriptor(),
      io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig.getDescriptor(),
      io.envoyproxy.envoy.config.trace.v3.ZipkinConfig.getDescriptor(),
      io.envoyproxy.envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig
          .getDescriptor(),
      io.envoyproxy.envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig
          .getDescriptor(),
      com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor(),
      com.google.protobuf.Empty.getDescriptor(), // --allow-unknown-static-fields' placeholder for unknown extensions
      com.github.xds.type.v3.TypedStruct.getDescriptor());

  private static final JsonFormat.TypeRegistry REGISTRY = JsonFormat.TypeRegistry.newBuilder().add(KNOWN)
      .add(IstioTypes.all()).build();

  /** The registry used to parse {@code google.protobuf.Any} values in JSON and YAML. */
  public static JsonFormat.TypeRegistry registry() {
    return REGISTRY;
  }
}
