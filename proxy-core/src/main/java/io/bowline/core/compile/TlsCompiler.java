package io.bowline.core.compile;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's TLS transport sockets into Netty SslContexts, on BoringSSL (netty-tcnative) where it loads. Upstream
 * without a validation context does not verify the server, exactly as Envoy documents for UpstreamTlsContext.
 */
final class TlsCompiler {
  static final String TLS = "envoy.transport_sockets.tls";
  static final String RAW = "envoy.transport_sockets.raw_buffer";

  private TlsCompiler() {}

  /** Null for a plaintext transport socket (absent or raw_buffer). */
  static @Nullable SslContext downstream(TransportSocket ts, String path) throws ConfigException {
    if (isPlain(ts, path)) {
      return null;
    }
    DownstreamTlsContext d = Fields.unpack(ts.getTypedConfig(), DownstreamTlsContext.class, path + ".typed_config");
    String p = path + ".typed_config";
    Fields.allow(d, p, "common_tls_context", "require_client_certificate");
    CommonTlsContext c = d.getCommonTlsContext();
    String cp = p + ".common_tls_context";
    Fields.allow(c, cp, "tls_certificates", "validation_context", "alpn_protocols", "tls_params");
    if (c.getTlsCertificatesCount() != 1) {
      throw new ConfigException(cp + ".tls_certificates", "exactly one certificate is supported, got "
          + c.getTlsCertificatesCount());
    }
    TlsCertificate cert = c.getTlsCertificates(0);
    String certPath = cp + ".tls_certificates[0]";
    Fields.allow(cert, certPath, "certificate_chain", "private_key");
    try {
      SslContextBuilder b = SslContextBuilder.forServer(
          new ByteArrayInputStream(DataSources.read(cert.getCertificateChain(), certPath + ".certificate_chain")),
          new ByteArrayInputStream(DataSources.read(cert.getPrivateKey(), certPath + ".private_key")));
      common(b, c, cp);
      if (c.hasValidationContext()) {
        b.trustManager(new ByteArrayInputStream(trustedCa(c.getValidationContext(), cp + ".validation_context")));
        b.clientAuth(d.getRequireClientCertificate().getValue() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
      } else if (d.getRequireClientCertificate().getValue()) {
        throw new ConfigException(p + ".require_client_certificate", "requires a validation_context");
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(cp, "invalid TLS configuration: " + e.getMessage(), e);
    }
  }

  static @Nullable UpstreamTls upstream(TransportSocket ts, String path, boolean http2) throws ConfigException {
    if (isPlain(ts, path)) {
      return null;
    }
    String p = path + ".typed_config";
    UpstreamTlsContext u = Fields.unpack(ts.getTypedConfig(), UpstreamTlsContext.class, p);
    Fields.allow(u, p, "common_tls_context", "sni", "auto_host_sni");
    CommonTlsContext c = u.getCommonTlsContext();
    String cp = p + ".common_tls_context";
    Fields.allow(c, cp, "tls_certificates", "validation_context", "alpn_protocols", "tls_params");
    try {
      SslContextBuilder b = SslContextBuilder.forClient();
      if (c.getTlsCertificatesCount() > 1) {
        throw new ConfigException(cp + ".tls_certificates", "at most one client certificate is supported");
      }
      if (c.getTlsCertificatesCount() == 1) {
        TlsCertificate cert = c.getTlsCertificates(0);
        String certPath = cp + ".tls_certificates[0]";
        Fields.allow(cert, certPath, "certificate_chain", "private_key");
        b.keyManager(new ByteArrayInputStream(DataSources.read(cert.getCertificateChain(), certPath
            + ".certificate_chain")), new ByteArrayInputStream(DataSources.read(cert.getPrivateKey(), certPath
            + ".private_key")));
      }
      if (c.hasValidationContext()) {
        b.trustManager(new ByteArrayInputStream(trustedCa(c.getValidationContext(), cp + ".validation_context")));
      } else {
        b.trustManager(InsecureTrustManagerFactory.INSTANCE);
      }
      if (c.getAlpnProtocolsCount() == 0 && http2) {
        b.applicationProtocolConfig(alpn(List.of("h2")));
      }
      common(b, c, cp);
      return new UpstreamTls(b.build(), u.getSni(), u.getAutoHostSni());
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(cp, "invalid TLS configuration: " + e.getMessage(), e);
    }
  }

  /** An upstream TLS context with its SNI settings. */
  record UpstreamTls(SslContext context, String sni, boolean autoSni) {}

  private static boolean isPlain(TransportSocket ts, String path) throws ConfigException {
    if (ts.equals(TransportSocket.getDefaultInstance())) {
      return true;
    }
    String type = Fields.typeName(ts.getTypedConfig());
    if (type.equals("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer")) {
      return true;
    }
    if (!type.equals("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext")
        && !type.equals("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")) {
      throw new ConfigException(path + ".typed_config", "transport socket " + type + " is not supported by bowline yet");
    }
    return false;
  }

  private static void common(SslContextBuilder b, CommonTlsContext c, String cp) throws ConfigException {
    b.sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
    if (c.getAlpnProtocolsCount() > 0) {
      b.applicationProtocolConfig(alpn(c.getAlpnProtocolsList()));
    }
    if (c.hasTlsParams()) {
      TlsParameters tp = c.getTlsParams();
      Fields.allow(tp, cp + ".tls_params", "tls_minimum_protocol_version", "tls_maximum_protocol_version",
          "cipher_suites");
      List<String> protocols = new ArrayList<>();
      int min = version(tp.getTlsMinimumProtocolVersion(), 12);
      int max = version(tp.getTlsMaximumProtocolVersion(), 13);
      for (int v = min; v <= max; v++) {
        protocols.add(v == 10 ? "TLSv1" : "TLSv1." + (v - 10));
      }
      if (protocols.isEmpty()) {
        throw new ConfigException(cp + ".tls_params", "minimum protocol version is above the maximum");
      }
      b.protocols(protocols);
      if (tp.getCipherSuitesCount() > 0) {
        b.ciphers(tp.getCipherSuitesList());
      }
    }
  }

  private static int version(TlsParameters.TlsProtocol p, int dflt) {
    return switch (p) {
      case TLSv1_0 -> 10;
      case TLSv1_1 -> 11;
      case TLSv1_2 -> 12;
      case TLSv1_3 -> 13;
      default -> dflt;
    };
  }

  private static byte[] trustedCa(CertificateValidationContext v, String path) throws ConfigException {
    Fields.allow(v, path, "trusted_ca");
    if (!v.hasTrustedCa()) {
      throw new ConfigException(path + ".trusted_ca", "required");
    }
    return DataSources.read(v.getTrustedCa(), path + ".trusted_ca");
  }

  private static ApplicationProtocolConfig alpn(List<String> protocols) {
    return new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols);
  }
}
