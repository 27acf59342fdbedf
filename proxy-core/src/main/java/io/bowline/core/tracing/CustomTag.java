package io.bowline.core.tracing;

import io.netty.handler.codec.http.HttpHeaders;

/** A {@code custom_tags} entry: a literal, an environment variable (read once), a request header, or metadata. */
public record CustomTag(String tag, Kind kind, String value, String defaultValue) {
  /** Where the tag's value comes from (METADATA: dynamic metadata, which bowline does not keep yet: no value). */
  public enum Kind { LITERAL, ENVIRONMENT, REQUEST_HEADER, METADATA }

  /** The value, or null when a header is absent and there is no default (the tag is then left out). */
  public String valueFor(HttpHeaders request) {
    return switch (kind) {
      case LITERAL, ENVIRONMENT -> value;
      case METADATA -> null;
      case REQUEST_HEADER -> {
        String v = request.get(value);
        yield v != null ? v : defaultValue.isEmpty() ? null : defaultValue;
      }
    };
  }
}
