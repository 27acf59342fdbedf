package io.bowline.core.tracing;

import com.google.protobuf.ByteString;
import io.bowline.core.filter.ClusterChannels;
import io.bowline.core.filter.ClusterDirectory;
import io.bowline.core.stats.Stats;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code envoy.tracers.opentelemetry}'s export: OTLP {@code ExportTraceServiceRequest}s to a collector cluster,
 * over gRPC ({@code grpc_service.envoy_grpc}) or HTTP ({@code http_service}, protobuf body), with the configured
 * {@code service_name} and resource attributes.
 */
public final class OtlpExporter extends SpanExporter {
  /** Where and how the spans go. */
  public record Target(String cluster, boolean grpc, String path, long timeoutMs, Map<String, String> headers) {}

  private final Target target;
  private final ClusterDirectory clusters;
  private final Resource resource;
  private final InstrumentationScope scope;
  private final HttpClient http;

  public OtlpExporter(Target target, ClusterDirectory clusters, Map<String, String> resourceAttributes, Stats stats) {
    super("opentelemetry", stats, 1000);
    this.target = target;
    this.clusters = clusters;
    Resource.Builder r = Resource.newBuilder();
    resourceAttributes.forEach((k, v) -> r.addAttributes(kv(k, v)));
    this.resource = r.build();
    this.scope = InstrumentationScope.newBuilder().setName("bowline").setVersion(
        io.bowline.core.admin.Version.VERSION).build();
    this.http = target.grpc() ? null : HttpClient.newBuilder().connectTimeout(Duration.ofMillis(target.timeoutMs()))
        .version(HttpClient.Version.HTTP_1_1).build();
  }

  @Override
  protected void send(List<SpanRecord> batch) throws Exception {
    ScopeSpans.Builder spans = ScopeSpans.newBuilder().setScope(scope);
    for (SpanRecord s : batch) {
      spans.addSpans(span(s));
    }
    ExportTraceServiceRequest req = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().setResource(resource).addScopeSpans(spans)).build();
    if (target.grpc()) {
      TraceServiceGrpc.newBlockingStub(ClusterChannels.of(clusters, target.cluster()))
          .withDeadlineAfter(target.timeoutMs(), TimeUnit.MILLISECONDS).export(req);
      return;
    }
    List<InetSocketAddress> hosts = clusters.hosts(target.cluster());
    if (hosts.isEmpty()) {
      throw new IllegalStateException("cluster " + target.cluster() + " has no hosts");
    }
    InetSocketAddress h = hosts.get(0);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + io.netty.util.NetUtil.toSocketAddressString(h)
        + target.path())).timeout(Duration.ofMillis(target.timeoutMs()))
        .header("content-type", "application/x-protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(req.toByteArray()));
    target.headers().forEach(b::header);
    HttpResponse<Void> r = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("collector answered " + r.statusCode());
    }
  }

  static Span span(SpanRecord s) {
    Span.Builder b = Span.newBuilder().setTraceId(bytes(s.traceId())).setSpanId(bytes(s.spanId()))
        .setName(s.name()).setKind(s.server() ? Span.SpanKind.SPAN_KIND_SERVER : Span.SpanKind.SPAN_KIND_CLIENT)
        .setStartTimeUnixNano(s.startEpochNanos()).setEndTimeUnixNano(s.endEpochNanos());
    if (!s.parentSpanId().isEmpty()) {
      b.setParentSpanId(bytes(s.parentSpanId()));
    }
    if (!s.traceState().isEmpty()) {
      b.setTraceState(s.traceState());
    }
    s.attributes().forEach((k, v) -> b.addAttributes(kv(k, v)));
    if (s.error()) {
      b.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
    }
    return b.build();
  }

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  private static ByteString bytes(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }
}
