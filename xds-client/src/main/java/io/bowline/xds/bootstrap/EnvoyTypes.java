package io.bowline.xds.bootstrap;

import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.util.JsonFormat;
import java.util.List;

/**
 * The Envoy message types a bootstrap may name in a {@code typed_config} or {@code typed_extension_protocol_options}.
 * Registering a type here only lets it parse; whether the engine supports it is the config compiler's decision, which
 * can then refuse it by name instead of failing with "unknown type URL". Each type comes with every type of its .proto
 * file and of the files it imports.
 *
 * <p>The types are named by their files' outer classes, whose descriptors are all a parser needs. A generated message
 * class's own {@code getDescriptor()} initialises the class, its parser and its default instance: done for this list,
 * that loaded 168 generated classes (messages, their parsers, their builders' interfaces) that a bootstrap naming no
 * such extension never uses; the classes of the types a configuration does use load when it is decoded.
 */
public final class EnvoyTypes {
  private EnvoyTypes() {}

  private static final List<FileDescriptor> KNOWN = List.of(
      // the bootstrap and its network filters
      io.envoyproxy.envoy.config.bootstrap.v3.BootstrapProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManagerProto
          .getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxyProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RbacProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimitProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthzProto.getDescriptor(),
      // routes: per-filter config wrapper, retry predicates, URI templates
      io.envoyproxy.envoy.config.route.v3.RouteComponentsProto.getDescriptor(), // FilterConfig
      io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfigProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.path.match.uri_template.v3.UriTemplateMatchProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteProto.getDescriptor(),
      // HTTP filters and their per-route configs
      io.envoyproxy.envoy.extensions.filters.http.router.v3.RouterProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsProto.getDescriptor(), // Cors, CorsPolicy
      io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.ConfigProto.getDescriptor(), // JwtAuthentication
      io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RbacProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.set_metadata.v3.SetMetadataProto.getDescriptor(), // Config
      io.envoyproxy.envoy.extensions.filters.http.wasm.v3.WasmProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.ConfigProto.getDescriptor(), // FilterConfig
      io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWebProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheckProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimitProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.http.ratelimit.v3.RateLimitProto.getDescriptor(), // and PerRoute
      io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidProto.getDescriptor(),
      // listener filters
      io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspectorProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspectorProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDstProto.getDescriptor(),
      // upstream protocol options and transport sockets
      io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptionsProto.getDescriptor(),
      // bootstrap_extensions: the default socket interface (io_uring_options)
      io.envoyproxy.envoy.extensions.network.socket_interface.v3.DefaultSocketInterfaceProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsProto.getDescriptor(), // Up/DownstreamTlsContext
      io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBufferProto.getDescriptor(),
      // access logs and tracing
      io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StreamProto.getDescriptor(), // StdoutAccessLog
      io.envoyproxy.envoy.config.trace.v3.OpentelemetryProto.getDescriptor(),
      io.envoyproxy.envoy.config.trace.v3.ZipkinProto.getDescriptor(),
      io.envoyproxy.envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorProto
          .getDescriptor(),
      io.envoyproxy.envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorProto
          .getDescriptor(),
      // wrappers: typed structs, StringValue, and --allow-unknown-static-fields' placeholder for unknown extensions
      com.github.udpa.udpa.type.v1.TypedStructProto.getDescriptor(),
      com.github.xds.type.v3.TypedStructProto.getDescriptor(),
      com.google.protobuf.WrappersProto.getDescriptor(),
      com.google.protobuf.EmptyProto.getDescriptor());

  private static final JsonFormat.TypeRegistry REGISTRY = registry(KNOWN);

  private static JsonFormat.TypeRegistry registry(List<FileDescriptor> files) {
    JsonFormat.TypeRegistry.Builder b = JsonFormat.TypeRegistry.newBuilder();
    for (FileDescriptor f : files) {
      b.add(f.getMessageTypes());
    }
    return b.add(IstioTypes.all()).build();
  }

  /** The registry used to parse {@code google.protobuf.Any} values in JSON and YAML. */
  public static JsonFormat.TypeRegistry registry() {
    return REGISTRY;
  }
}
