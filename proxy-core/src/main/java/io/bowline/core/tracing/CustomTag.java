package io.bowline.core.tracing;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * A {@code custom_tags} entry: a literal, an environment variable (read once), a request header, or a value in the
 * request's dynamic metadata ({@code metadata}; Istio tags its dry-run RBAC results this way). Metadata of another
 * kind than the request's (route, cluster, host) has no value here ({@code metadata} null): its default.
 */
public record CustomTag(String tag, Kind kind, String value, String defaultValue,
    io.bowline.core.filter.@org.jspecify.annotations.Nullable MetadataPath metadata) {
  public enum Kind { LITERAL, ENVIRONMENT, REQUEST_HEADER, METADATA }

  public CustomTag(String tag, Kind kind, String value, String defaultValue) {
    this(tag, kind, value, defaultValue, null);
  }

  /** The value, or null when it is absent and there is no default (the tag is then left out). */
  public String valueFor(HttpHeaders request) {
    return valueFor(request, null);
  }

  /** The same, with the request's dynamic metadata for METADATA tags. */
  public String valueFor(@org.jspecify.annotations.Nullable HttpHeaders request,
      java.util.@org.jspecify.annotations.Nullable Map<String, com.google.protobuf.Struct> metadata) {
    return switch (kind) {
      case LITERAL, ENVIRONMENT -> value;
      case METADATA -> orDefault(this.metadata == null ? null : this.metadata.render(metadata));
      case REQUEST_HEADER -> orDefault(request == null ? null : request.get(value));
    };
  }

  private String orDefault(@org.jspecify.annotations.Nullable String v) {
    return v != null ? v : defaultValue.isEmpty() ? null : defaultValue;
  }
}
