package io.bowline.core.tracing;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * A {@code custom_tags} entry: a literal, an environment variable (read once), a request header, or a value in
 * metadata ({@code metadata}) of one of Envoy's kinds: the request's dynamic metadata (Istio tags its dry-run RBAC
 * results this way), the route's, the upstream cluster's or the upstream host's (an endpoint's).
 */
public record CustomTag(String tag, Kind kind, String value, String defaultValue,
    io.bowline.core.filter.@org.jspecify.annotations.Nullable MetadataPath metadata, MetadataKind metadataKind) {
  public enum Kind { LITERAL, ENVIRONMENT, REQUEST_HEADER, METADATA }

  /** Whose metadata a METADATA tag reads. */
  public enum MetadataKind { REQUEST, ROUTE, CLUSTER, HOST }

  public CustomTag(String tag, Kind kind, String value, String defaultValue) {
    this(tag, kind, value, defaultValue, null, MetadataKind.REQUEST);
  }

  /** The value, or null when it is absent and there is no default (the tag is then left out). */
  public String valueFor(HttpHeaders request) {
    return valueFor(request, null);
  }

  /** The same, with the metadata of this tag's kind (its filter_metadata by namespace) for METADATA tags. */
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
