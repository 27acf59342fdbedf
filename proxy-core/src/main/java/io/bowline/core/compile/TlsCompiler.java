package io.bowline.core.compile;

import io.bowline.core.config.TlsContextSource;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
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
  static @Nullable TlsContextSource downstream(TransportSocket ts, String path) throws ConfigException {
    if (isPlain(ts, path)) {
      return null;
    }
    DownstreamTlsContext d = Fields.unpack(ts.getTypedConfig(), DownstreamTlsContext.class, path + ".typed_config");
    String p = path + ".typed_config";
    Fields.allow(d, p, "common_tls_context", "require_client_certificate");
    CommonTlsContext c = d.getCommonTlsContext();
    String cp = p + ".common_tls_context";
    Parts parts = parts(c, cp, true);
    boolean requireClient = d.getRequireClientCertificate().getValue();
    if (requireClient && !parts.validates()) {
      throw new ConfigException(p + ".require_client_certificate", "requires a validation context");
    }
    TlsContextSource.Builder builder = (secrets, alpnOverride) -> {
      TlsCertificate cert = parts.certificate(secrets);
      SslContextBuilder b = SslContextBuilder.forServer(
          new ByteArrayInputStream(DataSources.read(cert.getCertificateChain(), cp + ".certificate_chain")),
          new ByteArrayInputStream(DataSources.read(cert.getPrivateKey(), cp + ".private_key")));
      common(b, c, cp);
      byte[] ca = parts.trustedCa(secrets);
      if (ca != null) {
        b.trustManager(parts.rules(secrets).trustManager(ca));
        b.clientAuth(requireClient ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
      }
      return b.build();
    };
    return source(parts, builder, cp, "", false);
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
    Parts parts = parts(c, cp, false);
    TlsContextSource.Builder builder = (secrets, alpnOverride) -> {
      // Envoy checks a server only against the SAN matchers; Netty 4.2 would also match the SNI against its names
      SslContextBuilder b = SslContextBuilder.forClient().endpointIdentificationAlgorithm(null);
      TlsCertificate cert = parts.certificate(secrets);
      if (cert != null) {
        b.keyManager(new ByteArrayInputStream(DataSources.read(cert.getCertificateChain(), cp
            + ".certificate_chain")), new ByteArrayInputStream(DataSources.read(cert.getPrivateKey(), cp
            + ".private_key")));
      }
      byte[] ca = parts.trustedCa(secrets);
      if (ca != null) {
        b.trustManager(parts.rules(secrets).trustManager(ca));
      } else {
        b.trustManager(InsecureTrustManagerFactory.INSTANCE); // Envoy: no validation context, no verification
      }
      if (c.getAlpnProtocolsCount() == 0 && http2) {
        b.applicationProtocolConfig(alpn(List.of("h2")));
      }
      common(b, c, cp);
      if (alpnOverride != null) {
        b.applicationProtocolConfig(alpn(alpnOverride));
      }
      return b.build();
    };
    return new UpstreamTls(source(parts, builder, cp, u.getSni(), u.getAutoHostSni()), u.getSni(),
        u.getAutoHostSni());
  }

  /**
   * TLS to the management server (gRPC-java's own TLS stack): inline or file material only; the server's
   * certificate is checked against the trusted CA and the SNI (or the address when no SNI is set).
   */
  static io.bowline.xds.ads.XdsTarget.@Nullable Tls managementServer(TransportSocket ts, String path)
      throws ConfigException {
    if (isPlain(ts, path)) {
      return null;
    }
    String p = path + ".typed_config";
    UpstreamTlsContext u = Fields.unpack(ts.getTypedConfig(), UpstreamTlsContext.class, p);
    Fields.allow(u, p, "common_tls_context", "sni");
    CommonTlsContext c = u.getCommonTlsContext();
    String cp = p + ".common_tls_context";
    Fields.allow(c, cp, "tls_certificates", "validation_context", "alpn_protocols");
    if (c.hasValidationContext() && !sanMatchers(c.getValidationContext(), cp + ".validation_context").isEmpty()) {
      throw new ConfigException(cp + ".validation_context.match_typed_subject_alt_names",
          "not supported for the management server's connection yet");
    }
    byte[] ca = c.hasValidationContext() ? trustedCa(c.getValidationContext(), cp + ".validation_context") : null;
    byte[] chain = null;
    byte[] key = null;
    if (c.getTlsCertificatesCount() > 1) {
      throw new ConfigException(cp + ".tls_certificates", "at most one client certificate is supported");
    }
    if (c.getTlsCertificatesCount() == 1) {
      TlsCertificate cert = c.getTlsCertificates(0);
      String certPath = cp + ".tls_certificates[0]";
      Fields.allow(cert, certPath, "certificate_chain", "private_key");
      chain = DataSources.read(cert.getCertificateChain(), certPath + ".certificate_chain");
      key = DataSources.read(cert.getPrivateKey(), certPath + ".private_key");
    }
    return new io.bowline.xds.ads.XdsTarget.Tls(ca, chain, key, u.getSni());
  }

  /** An upstream TLS context with its SNI settings. */
  record UpstreamTls(TlsContextSource context, String sni, boolean autoSni) {}

  /** Fixed contexts are built (and checked) now; SDS-fed ones when their secrets arrive. */
  private static TlsContextSource source(Parts parts, TlsContextSource.Builder builder, String cp, String sni,
      boolean autoSni) throws ConfigException {
    if (parts.refs().isEmpty()) {
      try {
        return TlsContextSource.built(builder, sni, autoSni).describedBy(parts::pems);
      } catch (ConfigException e) {
        throw e;
      } catch (Exception e) {
        throw new ConfigException(cp, "invalid TLS configuration: " + e.getMessage(), e);
      }
    }
    return TlsContextSource.fromSecrets(parts.refs(), builder, sni, autoSni).describedBy(parts::pems);
  }

  /**
   * Where a context's certificate and trust anchors come from: inline / file, or SDS secrets by name (Istio's
   * {@code default} and {@code ROOTCA}).
   */
  private record Parts(@Nullable TlsCertificate inlineCert, @Nullable String certSecret,
      @Nullable CertificateValidationContext inlineValidation, @Nullable String validationSecret,
      List<TlsContextSource.SecretRef> refs, String path,
      List<io.bowline.core.tls.PeerCertificateRules.SanMatcher> defaultSans) {

    /** The peer rules: the config's SAN matchers, and those of an SDS validation context. */
    io.bowline.core.tls.PeerCertificateRules rules(java.util.Map<String, Secret> secrets) throws ConfigException {
      List<io.bowline.core.tls.PeerCertificateRules.SanMatcher> all = new ArrayList<>(defaultSans);
      if (validationSecret != null) {
        Secret s = secrets.get(validationSecret);
        if (s != null && s.hasValidationContext()) {
          all.addAll(sanMatchers(s.getValidationContext(), "Secret[" + validationSecret + "].validation_context"));
        }
      }
      return new io.bowline.core.tls.PeerCertificateRules(all);
    }

    boolean validates() {
      return inlineValidation != null || validationSecret != null;
    }

    @Nullable TlsCertificate certificate(java.util.Map<String, Secret> secrets) throws ConfigException {
      if (certSecret == null) {
        return inlineCert;
      }
      Secret s = secrets.get(certSecret);
      if (s == null || !s.hasTlsCertificate()) {
        throw new ConfigException("Secret[" + certSecret + "].tls_certificate", "required for " + path);
      }
      Fields.allow(s.getTlsCertificate(), "Secret[" + certSecret + "].tls_certificate", "certificate_chain",
          "private_key");
      return s.getTlsCertificate();
    }

    /** The chain and trusted CAs, as {@code /certs} shows them: a file's path, or {@code <inline>} (SDS's too). */
    TlsContextSource.Pems pems(java.util.Map<String, Secret> secrets) throws ConfigException {
      TlsCertificate cert = certificate(secrets);
      byte[] chain = cert == null ? null : DataSources.read(cert.getCertificateChain(), path + ".certificate_chain");
      String chainPath = cert == null ? null : pemPath(cert.getCertificateChain());
      byte[] ca = trustedCa(secrets);
      String caPath = null;
      if (ca != null) {
        caPath = validationSecret == null ? pemPath(inlineValidation.getTrustedCa())
            : pemPath(secrets.get(validationSecret).getValidationContext().getTrustedCa());
      }
      return new TlsContextSource.Pems(chainPath, chain, caPath, ca);
    }

    private static String pemPath(io.envoyproxy.envoy.config.core.v3.DataSource d) {
      return d.hasFilename() ? d.getFilename() : "<inline>";
    }

    byte @Nullable [] trustedCa(java.util.Map<String, Secret> secrets) throws ConfigException {
      if (validationSecret == null) {
        return inlineValidation == null ? null : TlsCompiler.trustedCa(inlineValidation, path + ".validation_context");
      }
      Secret s = secrets.get(validationSecret);
      if (s == null || !s.hasValidationContext()) {
        throw new ConfigException("Secret[" + validationSecret + "].validation_context", "required for " + path);
      }
      return TlsCompiler.trustedCa(s.getValidationContext(), "Secret[" + validationSecret + "].validation_context");
    }
  }

  private static Parts parts(CommonTlsContext c, String cp, boolean server) throws ConfigException {
    Fields.allow(c, cp, "tls_certificates", "validation_context", "alpn_protocols", "tls_params",
        "tls_certificate_sds_secret_configs", "validation_context_sds_secret_config", "combined_validation_context");
    List<TlsContextSource.SecretRef> refs = new ArrayList<>();
    int certs = c.getTlsCertificatesCount() + c.getTlsCertificateSdsSecretConfigsCount();
    if (server ? certs != 1 : certs > 1) {
      throw new ConfigException(cp + ".tls_certificates", (server ? "exactly" : "at most") + " one certificate "
          + "(inline or tls_certificate_sds_secret_configs) is supported, got " + certs);
    }
    TlsCertificate inlineCert = null;
    String certSecret = null;
    if (c.getTlsCertificatesCount() == 1) {
      inlineCert = c.getTlsCertificates(0);
      Fields.allow(inlineCert, cp + ".tls_certificates[0]", "certificate_chain", "private_key");
    } else if (c.getTlsCertificateSdsSecretConfigsCount() == 1) {
      certSecret = secretRef(c.getTlsCertificateSdsSecretConfigs(0), cp + ".tls_certificate_sds_secret_configs[0]",
          refs);
    }
    CertificateValidationContext inlineValidation = c.hasValidationContext() ? c.getValidationContext() : null;
    String validationSecret = null;
    List<io.bowline.core.tls.PeerCertificateRules.SanMatcher> defaultSans = List.of();
    if (c.hasValidationContextSdsSecretConfig()) {
      validationSecret = secretRef(c.getValidationContextSdsSecretConfig(),
          cp + ".validation_context_sds_secret_config", refs);
    } else if (c.hasCombinedValidationContext()) {
      var combined = c.getCombinedValidationContext();
      String vp = cp + ".combined_validation_context";
      Fields.allow(combined, vp, "default_validation_context", "validation_context_sds_secret_config");
      Fields.allow(combined.getDefaultValidationContext(), vp + ".default_validation_context",
          "match_typed_subject_alt_names", "match_subject_alt_names");
      defaultSans = sanMatchers(combined.getDefaultValidationContext(), vp + ".default_validation_context");
      validationSecret = secretRef(combined.getValidationContextSdsSecretConfig(),
          vp + ".validation_context_sds_secret_config", refs);
    }
    if (inlineValidation != null) {
      Fields.allow(inlineValidation, cp + ".validation_context", VALIDATION_FIELDS);
      defaultSans = sanMatchers(inlineValidation, cp + ".validation_context");
    }
    common(SslContextBuilder.forClient(), c, cp); // tls_params are checked now, not when a secret arrives
    return new Parts(inlineCert, certSecret, inlineValidation, validationSecret, refs, cp, defaultSans);
  }

  private static String secretRef(SdsSecretConfig s, String path, List<TlsContextSource.SecretRef> refs)
      throws ConfigException {
    Fields.allow(s, path, "name", "sds_config");
    if (s.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "required");
    }
    if (!s.hasSdsConfig()) {
      refs.add(new TlsContextSource.SecretRef(s.getName(), TlsContextSource.SecretRef.Kind.STATIC, null));
      return s.getName();
    }
    ConfigSource cs = s.getSdsConfig();
    String sp = path + ".sds_config";
    if (cs.hasAds()) {
      ConfigSources.requireAds(cs, sp);
      refs.add(new TlsContextSource.SecretRef(s.getName(), TlsContextSource.SecretRef.Kind.ADS, null));
      return s.getName();
    }
    Fields.allow(cs, sp, "api_config_source", "resource_api_version", "initial_fetch_timeout");
    ApiConfigSource api = cs.getApiConfigSource();
    Fields.allow(api, sp + ".api_config_source", "api_type", "transport_api_version", "grpc_services",
        "set_node_on_first_message_only");
    if (api.getApiType() != ApiConfigSource.ApiType.GRPC || api.getGrpcServicesCount() != 1
        || !api.getGrpcServices(0).hasEnvoyGrpc()) {
      throw new ConfigException(sp + ".api_config_source", "SDS is supported over ADS or over api_type GRPC with one "
          + "envoy_grpc service");
    }
    refs.add(new TlsContextSource.SecretRef(s.getName(), TlsContextSource.SecretRef.Kind.SDS_CLUSTER,
        api.getGrpcServices(0).getEnvoyGrpc().getClusterName()));
    return s.getName();
  }

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

  private static final String[] VALIDATION_FIELDS = {"trusted_ca", "match_typed_subject_alt_names",
      "match_subject_alt_names"};

  /** {@code match_typed_subject_alt_names}, and the deprecated untyped {@code match_subject_alt_names}. */
  static List<io.bowline.core.tls.PeerCertificateRules.SanMatcher> sanMatchers(CertificateValidationContext v,
      String path) throws ConfigException {
    List<io.bowline.core.tls.PeerCertificateRules.SanMatcher> out = new ArrayList<>();
    for (int i = 0; i < v.getMatchTypedSubjectAltNamesCount(); i++) {
      var m = v.getMatchTypedSubjectAltNames(i);
      String mp = path + ".match_typed_subject_alt_names[" + i + "]";
      Fields.allow(m, mp, "san_type", "matcher");
      var type = switch (m.getSanType()) {
        case DNS -> io.bowline.core.tls.PeerCertificateRules.SanType.DNS;
        case URI -> io.bowline.core.tls.PeerCertificateRules.SanType.URI;
        case EMAIL -> io.bowline.core.tls.PeerCertificateRules.SanType.EMAIL;
        case IP_ADDRESS -> io.bowline.core.tls.PeerCertificateRules.SanType.IP_ADDRESS;
        default -> throw new ConfigException(mp + ".san_type", "DNS, URI, EMAIL or IP_ADDRESS is required");
      };
      out.add(new io.bowline.core.tls.PeerCertificateRules.SanMatcher(type,
          RouteCompiler.stringMatch("san", m.getMatcher(), mp + ".matcher", false, false)));
    }
    for (int i = 0; i < v.getMatchSubjectAltNamesCount(); i++) {
      out.add(new io.bowline.core.tls.PeerCertificateRules.SanMatcher(
          io.bowline.core.tls.PeerCertificateRules.SanType.ANY, RouteCompiler.stringMatch("san",
              v.getMatchSubjectAltNames(i), path + ".match_subject_alt_names[" + i + "]", false, false)));
    }
    return out;
  }

  static byte[] trustedCa(CertificateValidationContext v, String path) throws ConfigException {
    Fields.allow(v, path, VALIDATION_FIELDS);
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
