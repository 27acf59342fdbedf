package io.bowline.core.compile;

import io.bowline.core.config.RequestIdConfig;
import io.bowline.core.tracing.CustomTag;
import io.bowline.core.tracing.OtlpExporter;
import io.bowline.core.tracing.Propagation;
import io.bowline.core.tracing.Tracer;
import io.bowline.core.tracing.TracingConfig;
import io.bowline.core.tracing.ZipkinExporter;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig;
import io.envoyproxy.envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The HCM's {@code tracing} and a route's {@code tracing} into {@link TracingConfig}: the OpenTelemetry (OTLP over
 * gRPC or HTTP) and Zipkin (B3, v2 JSON) providers, Envoy's three sampling rates, custom tags.
 */
final class TracingCompiler {
  private TracingCompiler() {}

  private static final String OTEL = "envoy.config.trace.v3.OpenTelemetryConfig";
  private static final String ZIPKIN = "envoy.config.trace.v3.ZipkinConfig";

  static @Nullable TracingConfig compile(HttpConnectionManager h, String path, CompileContext ctx, boolean egress,
      RequestIdConfig requestId) throws ConfigException {
    if (!h.hasTracing()) {
      return null;
    }
    HttpConnectionManager.Tracing t = h.getTracing();
    Fields.allow(t, path, "client_sampling", "random_sampling", "overall_sampling", "verbose", "max_path_tag_length",
        "custom_tags", "provider", "spawn_upstream_span");
    Tracer tracer;
    if (t.hasProvider()) {
      tracer = provider(t.getProvider(), path + ".provider", ctx);
    } else if (ctx.bootstrapTracing() != null) {
      // older Istio puts the tracer in the bootstrap's tracing.http and only sampling in the HCM
      tracer = provider(ctx.bootstrapTracing(), "tracing.http", ctx);
    } else {
      return null; // Envoy's null tracer: the block is accepted and nothing is traced
    }
    return new TracingConfig(tracer, egress, percent(t.hasClientSampling(), t.getClientSampling()),
        percent(t.hasRandomSampling(), t.getRandomSampling()), percent(t.hasOverallSampling(), t.getOverallSampling()),
        t.hasMaxPathTagLength() ? t.getMaxPathTagLength().getValue() : 256,
        customTags(t.getCustomTagsList(), path + ".custom_tags"), ctx.nodeId(), ctx.nodeZone(),
        requestId.useForTraceSampling(), requestId.packTraceReason(),
        t.hasSpawnUpstreamSpan() && t.getSpawnUpstreamSpan().getValue());
  }

  /**
   * The HCM's handling of x-request-id: {@code generate_request_id}, {@code preserve_external_request_id}, {@code
   * always_set_request_id_in_response} and its {@code request_id_extension} — Envoy's UUID one is the only kind
   * ({@code UuidRequestIdConfig}, which Istio always sends), with {@code pack_trace_reason} and {@code
   * use_request_id_for_trace_sampling} (both on by default).
   */
  static RequestIdConfig requestId(HttpConnectionManager h, String hcmPath) throws ConfigException {
    boolean generate = !h.hasGenerateRequestId() || h.getGenerateRequestId().getValue();
    if (!h.hasRequestIdExtension()) {
      return new RequestIdConfig(generate, h.getPreserveExternalRequestId(), h.getAlwaysSetRequestIdInResponse(),
          true, true);
    }
    String p = hcmPath + ".request_id_extension.typed_config";
    var any = h.getRequestIdExtension().getTypedConfig();
    if (!any.is(io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.class)) {
      throw new ConfigException(p, "only envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig is supported");
    }
    try {
      var u = any.unpack(io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.class);
      return new RequestIdConfig(generate, h.getPreserveExternalRequestId(), h.getAlwaysSetRequestIdInResponse(),
          !u.hasPackTraceReason() || u.getPackTraceReason().getValue(),
          !u.hasUseRequestIdForTraceSampling() || u.getUseRequestIdForTraceSampling().getValue());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new ConfigException(p, "cannot decode: " + e.getMessage(), e);
    }
  }

  /** A route's {@code tracing} overrides. */
  static TracingConfig.RouteTracing route(io.envoyproxy.envoy.config.route.v3.Tracing t, String path)
      throws ConfigException {
    Fields.allow(t, path, "client_sampling", "random_sampling", "overall_sampling", "custom_tags");
    return new TracingConfig.RouteTracing(
        t.hasClientSampling() ? Fractions.perMillion(t.getClientSampling(), path + ".client_sampling") : null,
        t.hasRandomSampling() ? Fractions.perMillion(t.getRandomSampling(), path + ".random_sampling") : null,
        t.hasOverallSampling() ? Fractions.perMillion(t.getOverallSampling(), path + ".overall_sampling") : null,
        customTags(t.getCustomTagsList(), path + ".custom_tags"));
  }

  /**
   * A connection manager's sampling percentage per million, in Envoy's steps: it keeps them as ten-thousandths,
   * rounded ({@code PROTOBUF_PERCENT_TO_ROUNDED_INTEGER_OR_DEFAULT}), and draws its sample in the same steps.
   */
  private static int percent(boolean set, Percent p) {
    return set ? (int) Math.round(Math.max(0, Math.min(100, p.getValue())) * 100) * 100 : 1_000_000;
  }

  static Tracer provider(io.envoyproxy.envoy.config.trace.v3.Tracing.Http p, String path, CompileContext ctx)
      throws ConfigException {
    Fields.allow(p, path, "name", "typed_config");
    String type = p.hasTypedConfig() ? Fields.typeName(p.getTypedConfig()) : "";
    String tp = path + ".typed_config";
    switch (type) {
      case OTEL -> {
        OpenTelemetryConfig o = Fields.unpack(p.getTypedConfig(), OpenTelemetryConfig.class, tp);
        Fields.allow(o, tp, "grpc_service", "http_service", "service_name", "resource_detectors");
        OtlpExporter.Target target;
        if (o.hasGrpcService()) {
          var g = o.getGrpcService();
          Fields.allow(g, tp + ".grpc_service", "envoy_grpc", "timeout");
          if (!g.hasEnvoyGrpc()) {
            throw new ConfigException(tp + ".grpc_service.envoy_grpc", "required (google_grpc is not supported)");
          }
          Fields.allow(g.getEnvoyGrpc(), tp + ".grpc_service.envoy_grpc", "cluster_name", "authority");
          target = new OtlpExporter.Target(g.getEnvoyGrpc().getClusterName(), true, "",
              g.hasTimeout() ? Fields.millis(g.getTimeout()) : 1000, Map.of());
        } else if (o.hasHttpService()) {
          var hs = o.getHttpService();
          Fields.allow(hs, tp + ".http_service", "http_uri", "request_headers_to_add");
          Fields.allow(hs.getHttpUri(), tp + ".http_service.http_uri", "uri", "cluster", "timeout");
          Map<String, String> headers = new LinkedHashMap<>();
          for (var hv : hs.getRequestHeadersToAddList()) {
            headers.put(hv.getHeader().getKey(), hv.getHeader().getValue());
          }
          java.net.URI uri;
          try {
            uri = java.net.URI.create(hs.getHttpUri().getUri());
          } catch (IllegalArgumentException e) {
            throw new ConfigException(tp + ".http_service.http_uri.uri", "not a URI: " + e.getMessage());
          }
          target = new OtlpExporter.Target(hs.getHttpUri().getCluster(), false,
              uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/v1/traces" : uri.getRawPath(),
              hs.getHttpUri().hasTimeout() ? Fields.millis(hs.getHttpUri().getTimeout()) : 1000, headers);
        } else {
          throw new ConfigException(tp, "grpc_service or http_service is required (the collector to send to)");
        }
        requireCluster(target.cluster(), tp, ctx);
        Map<String, String> resource = new LinkedHashMap<>();
        resource.put("service.name", o.getServiceName().isEmpty() ? "unknown_service:envoy" : o.getServiceName());
        for (int i = 0; i < o.getResourceDetectorsCount(); i++) {
          resourceDetector(o.getResourceDetectors(i), tp + ".resource_detectors[" + i + "]", resource);
        }
        String key = OTEL + ":" + p.getTypedConfig().getValue().toStringUtf8();
        return ctx.tracer(key, () -> new Tracer("opentelemetry", Propagation.W3C,
            new OtlpExporter(target, ctx.clusterDirectory(), resource, ctx.stats()), true));
      }
      case ZIPKIN -> {
        ZipkinConfig z = Fields.unpack(p.getTypedConfig(), ZipkinConfig.class, tp);
        Fields.allow(z, tp, "collector_cluster", "collector_endpoint", "trace_id_128bit", "shared_span_context",
            "collector_endpoint_version", "collector_hostname");
        if (z.getCollectorEndpointVersion() != ZipkinConfig.CollectorEndpointVersion.HTTP_JSON) {
          throw new ConfigException(tp + ".collector_endpoint_version", "only HTTP_JSON is supported by bowline yet");
        }
        if (z.getCollectorEndpoint().isEmpty()) {
          throw new ConfigException(tp + ".collector_endpoint", "required");
        }
        requireCluster(z.getCollectorCluster(), tp + ".collector_cluster", ctx);
        String key = ZIPKIN + ":" + p.getTypedConfig().getValue().toStringUtf8();
        String service = ctx.nodeCluster().isEmpty() ? "envoy" : ctx.nodeCluster();
        return ctx.tracer(key, () -> new Tracer("zipkin", Propagation.B3, new ZipkinExporter(z.getCollectorCluster(),
            z.getCollectorEndpoint(), service, ctx.clusterDirectory(), ctx.stats()), z.getTraceId128Bit()));
      }
      default -> throw new ConfigException(tp, "tracer " + (type.isEmpty() ? p.getName() : type)
          + " is not supported by bowline yet (envoy.tracers.opentelemetry and envoy.tracers.zipkin are)");
    }
  }

  private static void requireCluster(String cluster, String path, CompileContext ctx) throws ConfigException {
    if (cluster.isEmpty()) {
      throw new ConfigException(path, "a collector cluster is required");
    }
    if (!ctx.clusterDirectory().exists(cluster)) {
      throw new ConfigException(path, "unknown cluster '" + cluster + "'");
    }
  }

  private static void resourceDetector(io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig d, String path,
      Map<String, String> resource) throws ConfigException {
    String type = Fields.typeName(d.getTypedConfig());
    switch (type) {
      case "envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig" -> {
        Fields.allow(Fields.unpack(d.getTypedConfig(), EnvironmentResourceDetectorConfig.class,
            path + ".typed_config"), path + ".typed_config");
        String env = System.getenv("OTEL_RESOURCE_ATTRIBUTES"); // key=value,key=value (percent-encoded values)
        if (env != null) {
          for (String kv : env.split(",")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
              resource.put(kv.substring(0, eq).trim(),
                  java.net.URLDecoder.decode(kv.substring(eq + 1).trim(), java.nio.charset.StandardCharsets.UTF_8));
            }
          }
        }
      }
      case "envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig" -> {
        var s = Fields.unpack(d.getTypedConfig(), StaticConfigResourceDetectorConfig.class, path + ".typed_config");
        Fields.allow(s, path + ".typed_config", "attributes");
        resource.putAll(s.getAttributesMap());
      }
      default -> throw new ConfigException(path + ".typed_config", "resource detector " + type
          + " is not supported by bowline yet");
    }
  }

  static List<CustomTag> customTags(List<io.envoyproxy.envoy.type.tracing.v3.CustomTag> tags, String path)
      throws ConfigException {
    List<CustomTag> out = new ArrayList<>();
    for (int i = 0; i < tags.size(); i++) {
      var t = tags.get(i);
      String tp = path + "[" + i + "]";
      Fields.allow(t, tp, "tag", "literal", "environment", "request_header", "metadata");
      if (t.getTag().isEmpty()) {
        throw new ConfigException(tp + ".tag", "required");
      }
      out.add(switch (t.getTypeCase()) {
        case LITERAL -> new CustomTag(t.getTag(), CustomTag.Kind.LITERAL, t.getLiteral().getValue(), "");
        case ENVIRONMENT -> {
          String v = System.getenv(t.getEnvironment().getName());
          yield new CustomTag(t.getTag(), CustomTag.Kind.ENVIRONMENT,
              v != null ? v : t.getEnvironment().getDefaultValue(), "");
        }
        case REQUEST_HEADER -> new CustomTag(t.getTag(), CustomTag.Kind.REQUEST_HEADER,
            t.getRequestHeader().getName().toLowerCase(java.util.Locale.ROOT),
            t.getRequestHeader().getDefaultValue());
        case METADATA -> {
          var mk = t.getMetadata().getMetadataKey();
          java.util.List<String> keys = new java.util.ArrayList<>();
          for (var seg : mk.getPathList()) {
            keys.add(seg.getKey());
          }
          var kind = t.getMetadata().getKind();
          CustomTag.MetadataKind from = kind.hasRoute() ? CustomTag.MetadataKind.ROUTE
              : kind.hasCluster() ? CustomTag.MetadataKind.CLUSTER
              : kind.hasHost() ? CustomTag.MetadataKind.HOST : CustomTag.MetadataKind.REQUEST;
          yield new CustomTag(t.getTag(), CustomTag.Kind.METADATA, "", t.getMetadata().getDefaultValue(),
              new io.bowline.core.filter.MetadataPath(mk.getKey(), keys), from);
        }
        default -> throw new ConfigException(tp, "custom tag kind " + t.getTypeCase() + " is not supported by "
            + "bowline yet (literal, environment, request_header and metadata are)");
      });
    }
    return out;
  }
}
