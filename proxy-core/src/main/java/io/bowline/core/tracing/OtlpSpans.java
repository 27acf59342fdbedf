package io.bowline.core.tracing;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A batch of spans as the bytes of one OTLP {@code ExportTraceServiceRequest}, each span written with protobuf's
 * {@link CodedOutputStream} as the exporter thread takes it from the queue: no {@code Span}, {@code KeyValue} or
 * {@code AnyValue} message and no builder per span and attribute, and no span kept until its batch goes. At 100 %
 * sampling those messages were ~3 KB of garbage a span, and the spans waiting for their batch were promoted and
 * filled the old generation (a full collection every ~25 s at 20,000 spans a second). The bytes are the ones the
 * generated messages would serialize to, field for field (OtlpSpansTest holds that).
 */
final class OtlpSpans implements SpanExporter.Batch {
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  // field numbers of opentelemetry/proto/trace/v1/trace.proto and common.proto
  private static final int SCOPE_SPANS_SPANS = 2;
  private static final int SPAN_TRACE_ID = 1;
  private static final int SPAN_SPAN_ID = 2;
  private static final int SPAN_TRACE_STATE = 3;
  private static final int SPAN_PARENT_SPAN_ID = 4;
  private static final int SPAN_NAME = 5;
  private static final int SPAN_KIND = 6;
  private static final int SPAN_START = 7;
  private static final int SPAN_END = 8;
  private static final int SPAN_ATTRIBUTES = 9;
  private static final int SPAN_STATUS = 15;
  private static final int KEY_VALUE_KEY = 1;
  private static final int KEY_VALUE_VALUE = 2;
  private static final int ANY_VALUE_STRING = 1;
  private static final int STATUS_CODE = 3;
  private static final int KIND_SERVER = 2;
  private static final int KIND_CLIENT = 3;
  private static final int STATUS_CODE_ERROR = 2;
  /** A Status whose only field is code ERROR: field 3, varint 2. */
  private static final int STATUS_SIZE = CodedOutputStream.computeEnumSize(STATUS_CODE, STATUS_CODE_ERROR);

  /** ResourceSpans.resource and ScopeSpans.scope, each as its whole field: the same for every batch. */
  private final byte[] resourceField;
  private final byte[] scopeField;
  private byte[] spans = new byte[64 * 1024];
  private int length;
  private int count;
  /**
   * One span's attributes as UTF-8, gathered before its size is known; reused. The JDK's encoder makes them: protobuf's
   * own runs as C1 code here (bin/control-path.jit.json keeps C2 off protobuf, the control path's parser) and took
   * half the exporter's time.
   */
  private byte[][] keys = new byte[32][];
  private byte[][] values = new byte[32][];
  private int attributes;
  private final byte[] id = new byte[16];
  private byte[] name = new byte[0];

  /**
   * @param resource an encoded {@code Resource}
   * @param scope an encoded {@code InstrumentationScope}
   */
  OtlpSpans(byte[] resource, byte[] scope) {
    this.resourceField = field(1, resource);
    this.scopeField = field(1, scope);
  }

  private static byte[] field(int number, byte[] message) {
    byte[] out = new byte[CodedOutputStream.computeByteArraySize(number, message)];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeByteArray(number, message);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an array sized for it
    }
    return out;
  }

  int count() {
    return count;
  }

  @Override
  public void clear() {
    length = 0;
    count = 0;
    if (spans.length > 1024 * 1024) {
      spans = new byte[64 * 1024]; // a batch of huge attributes does not pin its buffer
    }
  }

  /** Appends {@code s} to the batch as one {@code ScopeSpans.spans} element. */
  @Override
  public void append(SpanRecord s) {
    name = s.name().getBytes(StandardCharsets.UTF_8);
    attributes = 0;
    s.forEachAttribute(this::gather);
    int size = spanSize(s);
    int field = CodedOutputStream.computeTagSize(SCOPE_SPANS_SPANS) + CodedOutputStream.computeUInt32SizeNoTag(size)
        + size;
    if (length + field > spans.length) {
      spans = Arrays.copyOf(spans, Math.max(spans.length * 2, length + field));
    }
    CodedOutputStream o = CodedOutputStream.newInstance(spans, length, field);
    try {
      o.writeTag(SCOPE_SPANS_SPANS, LEN);
      o.writeUInt32NoTag(size);
      writeSpan(o, s);
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // room was made for exactly this
    }
    length += field;
    count++;
  }

  private void gather(String key, String value) {
    if (attributes == keys.length) {
      keys = Arrays.copyOf(keys, attributes * 2);
      values = Arrays.copyOf(values, attributes * 2);
    }
    keys[attributes] = key.getBytes(StandardCharsets.UTF_8);
    values[attributes++] = value.getBytes(StandardCharsets.UTF_8);
  }

  /** The span's size as protobuf writes it: fields with proto3's default value are left out. */
  private int spanSize(SpanRecord s) {
    int size = CodedOutputStream.computeTagSize(SPAN_TRACE_ID) + 1 + 16
        + CodedOutputStream.computeTagSize(SPAN_SPAN_ID) + 1 + 8
        + stringSize(SPAN_TRACE_STATE, s.traceState())
        + (s.parentSpanId().isEmpty() ? 0 : CodedOutputStream.computeTagSize(SPAN_PARENT_SPAN_ID) + 1 + 8)
        + (name.length == 0 ? 0 : CodedOutputStream.computeByteArraySize(SPAN_NAME, name))
        + CodedOutputStream.computeEnumSize(SPAN_KIND, s.server() ? KIND_SERVER : KIND_CLIENT)
        + (s.startEpochNanos() == 0 ? 0 : CodedOutputStream.computeFixed64Size(SPAN_START, 0))
        + (s.endEpochNanos() == 0 ? 0 : CodedOutputStream.computeFixed64Size(SPAN_END, 0));
    for (int i = 0; i < attributes; i++) {
      int kv = keyValueSize(i);
      size += CodedOutputStream.computeTagSize(SPAN_ATTRIBUTES) + CodedOutputStream.computeUInt32SizeNoTag(kv) + kv;
    }
    if (s.error()) {
      size += CodedOutputStream.computeTagSize(SPAN_STATUS) + CodedOutputStream.computeUInt32SizeNoTag(STATUS_SIZE)
          + STATUS_SIZE;
    }
    return size;
  }

  private static int stringSize(int field, String s) {
    return s.isEmpty() ? 0 : CodedOutputStream.computeStringSize(field, s);
  }

  /** A KeyValue: the key (left out when empty), and an AnyValue that is set, so written even when its text is empty. */
  private int keyValueSize(int i) {
    int any = anyValueSize(i);
    return (keys[i].length == 0 ? 0 : CodedOutputStream.computeByteArraySize(KEY_VALUE_KEY, keys[i]))
        + CodedOutputStream.computeTagSize(KEY_VALUE_VALUE) + CodedOutputStream.computeUInt32SizeNoTag(any) + any;
  }

  private int anyValueSize(int i) {
    return CodedOutputStream.computeByteArraySize(ANY_VALUE_STRING, values[i]); // a oneof member: written even empty
  }

  private void writeSpan(CodedOutputStream o, SpanRecord s) throws IOException {
    o.writeTag(SPAN_TRACE_ID, LEN);
    o.writeUInt32NoTag(16);
    bigEndian(s.traceIdHigh(), 0);
    bigEndian(s.traceIdLow(), 8);
    o.writeRawBytes(id, 0, 16);
    o.writeTag(SPAN_SPAN_ID, LEN);
    o.writeUInt32NoTag(8);
    bigEndian(s.spanIdNumber(), 0);
    o.writeRawBytes(id, 0, 8);
    if (!s.traceState().isEmpty()) {
      o.writeString(SPAN_TRACE_STATE, s.traceState());
    }
    if (!s.parentSpanId().isEmpty()) {
      o.writeTag(SPAN_PARENT_SPAN_ID, LEN);
      o.writeUInt32NoTag(8);
      bigEndian(Long.parseUnsignedLong(s.parentSpanId(), 16), 0);
      o.writeRawBytes(id, 0, 8);
    }
    if (name.length > 0) {
      o.writeByteArray(SPAN_NAME, name);
    }
    o.writeEnum(SPAN_KIND, s.server() ? KIND_SERVER : KIND_CLIENT);
    if (s.startEpochNanos() != 0) {
      o.writeFixed64(SPAN_START, s.startEpochNanos());
    }
    if (s.endEpochNanos() != 0) {
      o.writeFixed64(SPAN_END, s.endEpochNanos());
    }
    for (int i = 0; i < attributes; i++) {
      o.writeTag(SPAN_ATTRIBUTES, LEN);
      o.writeUInt32NoTag(keyValueSize(i));
      if (keys[i].length > 0) {
        o.writeByteArray(KEY_VALUE_KEY, keys[i]); // a string field's bytes are its UTF-8
      }
      o.writeTag(KEY_VALUE_VALUE, LEN);
      o.writeUInt32NoTag(anyValueSize(i));
      o.writeByteArray(ANY_VALUE_STRING, values[i]);
    }
    if (s.error()) {
      o.writeTag(SPAN_STATUS, LEN);
      o.writeUInt32NoTag(STATUS_SIZE);
      o.writeEnum(STATUS_CODE, STATUS_CODE_ERROR);
    }
  }

  private void bigEndian(long v, int at) {
    for (int i = 7; i >= 0; i--) {
      id[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  /**
   * The batch as an {@code ExportTraceServiceRequest}: one {@code ResourceSpans} (the resource, and one
   * {@code ScopeSpans} of the scope and the spans).
   */
  byte[] request() {
    int scopeSpans = scopeField.length + length;
    int resourceSpans = resourceField.length + CodedOutputStream.computeTagSize(2)
        + CodedOutputStream.computeUInt32SizeNoTag(scopeSpans) + scopeSpans;
    byte[] out = new byte[CodedOutputStream.computeTagSize(1) + CodedOutputStream.computeUInt32SizeNoTag(resourceSpans)
        + resourceSpans];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeTag(1, LEN);
      o.writeUInt32NoTag(resourceSpans);
      o.writeRawBytes(resourceField);
      o.writeTag(2, LEN);
      o.writeUInt32NoTag(scopeSpans);
      o.writeRawBytes(scopeField);
      o.writeRawBytes(spans, 0, length);
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
