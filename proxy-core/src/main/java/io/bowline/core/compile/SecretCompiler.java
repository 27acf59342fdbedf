package io.bowline.core.compile;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;

/** An SDS or static {@code Secret}: the fields bowline takes (a certificate and key, or trust anchors). */
public final class SecretCompiler {
  private SecretCompiler() {}

  public static void check(Secret s, String path) throws ConfigException {
    Fields.allow(s, path, "name", "tls_certificate", "validation_context");
    if (s.hasTlsCertificate()) {
      Fields.allow(s.getTlsCertificate(), path + ".tls_certificate", "certificate_chain", "private_key");
    }
    if (s.hasValidationContext()) {
      Fields.allow(s.getValidationContext(), path + ".validation_context", "trusted_ca");
    }
    if (!s.hasTlsCertificate() && !s.hasValidationContext()) {
      throw new ConfigException(path, "a tls_certificate or a validation_context is required");
    }
  }
}
