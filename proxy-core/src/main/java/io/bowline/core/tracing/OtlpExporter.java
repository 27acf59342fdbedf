package io.bowline.core.tracing;

import io.bowline.core.filter.ClusterChannels;
import io.bowline.core.filter.ClusterDirectory;
import io.bowline.core.stats.Stats;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code envoy.tracers.opentelemetry}'s export: OTLP {@code ExportTraceServiceRequest}s to a collector cluster,
 * over gRPC ({@code grpc_service.envoy_grpc}) or HTTP ({@code http_service}, protobuf body), with the configured
 * {@code service_name} and resource attributes. The request's bytes are written span by span ({@link OtlpSpans}).
 */
public final class OtlpExporter extends SpanExporter {
  /** TraceService/Export with the request as the bytes {@link OtlpSpans} made; the answer is not read. */
  private static final MethodDescriptor<byte[], byte[]> EXPORT = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName(TraceServiceGrpc.getExportMethod().getFullMethodName())
      .setRequestMarshaller(Bytes.MARSHALLER).setResponseMarshaller(Bytes.MARSHALLER).build();

  private enum Bytes implements MethodDescriptor.Marshaller<byte[]> {
    MARSHALLER;

    @Override
    public java.io.InputStream stream(byte[] value) {
      return new java.io.ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(java.io.InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** Where and how the spans go. */
  public record Target(String cluster, boolean grpc, String path, long timeoutMs, Map<String, String> headers) {}

  private final Target target;
  private final ClusterDirectory clusters;
  private final OtlpSpans batch;
  private final HttpClient http;

  public OtlpExporter(Target target, ClusterDirectory clusters, Map<String, String> resourceAttributes, Stats stats) {
    this(target, clusters, stats, batch(resourceAttributes));
  }

  private OtlpExporter(Target target, ClusterDirectory clusters, Stats stats, OtlpSpans batch) {
    super("opentelemetry", stats, 1000, batch);
    this.target = target;
    this.clusters = clusters;
    this.batch = batch;
    this.http = target.grpc() ? null : HttpClient.newBuilder().connectTimeout(Duration.ofMillis(target.timeoutMs()))
        .version(HttpClient.Version.HTTP_1_1).build();
  }

  @Override
  protected void send() throws Exception {
    byte[] req = batch.request();
    if (target.grpc()) {
      ClientCalls.blockingUnaryCall(ClusterChannels.of(clusters, target.cluster()), EXPORT,
          CallOptions.DEFAULT.withDeadlineAfter(target.timeoutMs(), TimeUnit.MILLISECONDS), req);
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
        .POST(HttpRequest.BodyPublishers.ofByteArray(req));
    target.headers().forEach(b::header);
    HttpResponse<Void> r = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("collector answered " + r.statusCode());
    }
  }

  /** A batch for the configured resource, with bowline as the instrumentation scope. */
  private static OtlpSpans batch(Map<String, String> resourceAttributes) {
    Resource.Builder r = Resource.newBuilder();
    resourceAttributes.forEach((k, v) -> r.addAttributes(kv(k, v)));
    return new OtlpSpans(r.build().toByteArray(), InstrumentationScope.newBuilder().setName("bowline")
        .setVersion(io.bowline.core.admin.Version.VERSION).build().toByteArray());
  }

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }
}
