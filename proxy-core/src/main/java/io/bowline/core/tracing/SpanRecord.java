package io.bowline.core.tracing;

import io.bowline.core.transport.AddressText;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One finished span as the exporters send it: made on the event loop when its stream ends, from what the loop
 * already holds — ids as numbers, tag values as the stream's own strings, numbers and addresses — and turned into
 * text ({@link #traceId}, {@link #attributes}, ...) on the exporter thread, so a sampled request costs its loop no
 * formatting and no map.
 */
public final class SpanRecord {
  private static final HexFormat HEX = HexFormat.of();

  private final long traceIdHigh;
  private final long traceIdLow;
  private final long spanId;
  private final String parentSpanId;
  private final String traceState;
  private final String name;
  private final boolean server;
  private final long startEpochNanos;
  private final long endEpochNanos;
  private final Object[] tags; // name, value, ...: a value is a CharSequence (a String or a header's bytes) or a form below
  private final int tagCount;
  private final boolean error;

  SpanRecord(long traceIdHigh, long traceIdLow, long spanId, String parentSpanId, String traceState, String name,
      boolean server, long startEpochNanos, long endEpochNanos, Object[] tags, int tagCount, boolean error) {
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.traceState = traceState;
    this.name = name;
    this.server = server;
    this.startEpochNanos = startEpochNanos;
    this.endEpochNanos = endEpochNanos;
    this.tags = tags;
    this.tagCount = tagCount;
    this.error = error;
  }

  /** A tag's value as a number: written in decimal. */
  record Number(long value) {}

  /** A tag's value as an address: its IP only, or ip:port. */
  record Address(InetSocketAddress address, boolean withPort) {}

  /** {@code http.url}: scheme://host/path, cut at {@code max} characters. */
  record Url(String scheme, CharSequence host, String path, int max) {}

  /** Lower-case hex, 32 characters. */
  public String traceId() {
    return HEX.toHexDigits(traceIdHigh) + HEX.toHexDigits(traceIdLow);
  }

  /** Lower-case hex, 16 characters. */
  public String spanId() {
    return HEX.toHexDigits(spanId);
  }

  /** Lower-case hex, or empty for a root span. */
  public String parentSpanId() {
    return parentSpanId;
  }

  public String traceState() {
    return traceState;
  }

  public String name() {
    return name;
  }

  public boolean server() {
    return server;
  }

  public long startEpochNanos() {
    return startEpochNanos;
  }

  public long endEpochNanos() {
    return endEpochNanos;
  }

  public boolean error() {
    return error;
  }

  /** The tags in the order they were set; a later one of the same name (a custom tag) replaces an earlier one. */
  public Map<String, String> attributes() {
    Map<String, String> out = new LinkedHashMap<>();
    forEachAttribute(out::put);
    return out;
  }

  /**
   * Each tag's name and text, as {@link #attributes()} orders them, without a map: a tag set again later (a custom
   * tag named as a standard one) is given once, where it was first set, with its last value.
   */
  public void forEachAttribute(java.util.function.BiConsumer<String, String> to) {
    for (int i = 0; i < tagCount; i += 2) {
      String name = (String) tags[i];
      int hash = name.hashCode(); // the names are constants and config's: their hashes are cached
      boolean earlier = false;
      for (int j = 0; j < i && !earlier; j += 2) {
        earlier = same(name, hash, (String) tags[j]);
      }
      if (earlier) {
        continue;
      }
      int last = i;
      for (int j = i + 2; j < tagCount; j += 2) {
        if (same(name, hash, (String) tags[j])) {
          last = j;
        }
      }
      to.accept(name, text(tags[last + 1]));
    }
  }

  private static boolean same(String name, int hash, String other) {
    return other == name || other.hashCode() == hash && other.equals(name);
  }

  long traceIdHigh() {
    return traceIdHigh;
  }

  long traceIdLow() {
    return traceIdLow;
  }

  long spanIdNumber() {
    return spanId;
  }

  private static String text(Object v) {
    if (v instanceof CharSequence s) {
      return s.toString();
    }
    if (v instanceof Number n) {
      return Long.toString(n.value());
    }
    if (v instanceof Address a) {
      return a.withPort() ? AddressText.of(a.address()) : AddressText.ip(a.address());
    }
    Url u = (Url) v;
    String url = u.scheme() + "://" + u.host() + u.path();
    return url.length() > u.max() ? url.substring(0, u.max()) : url;
  }

  @Override
  public String toString() {
    return "SpanRecord[" + traceId() + "/" + spanId() + " " + name + " " + attributes() + "]";
  }
}
