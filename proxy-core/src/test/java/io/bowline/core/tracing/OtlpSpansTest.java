package io.bowline.core.tracing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link OtlpSpans} writes the bytes the generated OTLP messages serialize to: each span is compared with the same
 * span built through the messages' builders, byte for byte.
 */
class OtlpSpansTest {
  private static final Resource RESOURCE = Resource.newBuilder().addAttributes(kv("service.name", "bench")).build();
  private static final InstrumentationScope SCOPE = InstrumentationScope.newBuilder().setName("bowline")
      .setVersion("1.0").build();

  private static SpanRecord server() {
    Object[] tags = {"component", "proxy", "http.method", new io.netty.util.AsciiString("GET"),
        "http.url", new SpanRecord.Url("http", "example.com", "/a/b?q=1", 256), "peer.address",
        new SpanRecord.Address(new InetSocketAddress("10.0.0.7", 43210), false),
        "upstream_address", new SpanRecord.Address(new InetSocketAddress("10.0.0.9", 8080), true),
        "http.status_code", new SpanRecord.Number(200), "empty", "", "unicode", "grüße ✓ 🚀",
        "component", "replaced by a custom tag", "long", "x".repeat(300)};
    return new SpanRecord(0x0af7651916cd43ddL, 0x8448eb211c80319cL, 0xb7ad6b7169203331L, "00f067aa0ba902b7",
        "congo=t61rcWkgMzE", "ingress example.com", true, 1_700_000_000_123_456_789L, 1_700_000_000_223_456_789L, tags,
        tags.length, false);
  }

  private static SpanRecord client() {
    Object[] tags = {"upstream_cluster", "outbound|80||reviews.default.svc.cluster.local", "error", "true"};
    return new SpanRecord(1, 2, 3, "", "", "router reviews egress", false, 5, 7, tags, tags.length, true);
  }

  @Test
  void aBatchIsTheRequestTheMessagesMake() throws Exception {
    OtlpSpans batch = new OtlpSpans(RESOURCE.toByteArray(), SCOPE.toByteArray());
    List<SpanRecord> spans = List.of(server(), client(), server());
    spans.forEach(batch::append);
    assertEquals(3, batch.count());
    byte[] made = batch.request();
    assertArrayEquals(reference(spans).toByteArray(), made);
    Span parsed = ExportTraceServiceRequest.parseFrom(made).getResourceSpans(0).getScopeSpans(0).getSpans(0);
    assertEquals("http://example.com/a/b?q=1", parsed.getAttributesList().stream()
        .filter(a -> a.getKey().equals("http.url")).findFirst().orElseThrow().getValue().getStringValue());
    assertEquals("replaced by a custom tag", parsed.getAttributes(0).getValue().getStringValue(),
        "a tag set again keeps its place and takes the later value");

    batch.clear();
    batch.append(client());
    assertArrayEquals(reference(List.of(client())).toByteArray(), batch.request());
  }

  @Test
  void aBatchLargerThanItsFirstBufferGrows() {
    OtlpSpans batch = new OtlpSpans(RESOURCE.toByteArray(), SCOPE.toByteArray());
    List<SpanRecord> spans = java.util.Collections.nCopies(512, server());
    spans.forEach(batch::append);
    assertArrayEquals(reference(spans).toByteArray(), batch.request());
  }

  /** The request as the generated builders make it. */
  private static ExportTraceServiceRequest reference(List<SpanRecord> spans) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder().setScope(SCOPE);
    for (SpanRecord s : spans) {
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
      scope.addSpans(b);
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().setResource(RESOURCE)
        .addScopeSpans(scope)).build();
  }

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  private static ByteString bytes(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }
}
