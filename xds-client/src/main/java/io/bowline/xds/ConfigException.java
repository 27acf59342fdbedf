package io.bowline.xds;

/**
 * A configuration that cannot be accepted. {@link #fieldPath()} names the field the way Envoy's docs do
 * ({@code static_resources.listeners[0].filter_chains[1].filters[0].typed_config.codec_type}), so the same
 * message serves as a startup error line and as a NACK's error_detail.
 */
public final class ConfigException extends Exception {
  private final String fieldPath;
  private final String reason;

  public ConfigException(String fieldPath, String reason) {
    super(fieldPath.isEmpty() ? reason : fieldPath + ": " + reason);
    this.fieldPath = fieldPath;
    this.reason = reason;
  }

  public ConfigException(String fieldPath, String reason, Throwable cause) {
    this(fieldPath, reason);
    initCause(cause);
  }

  public String fieldPath() {
    return fieldPath;
  }

  public String reason() {
    return reason;
  }
}
