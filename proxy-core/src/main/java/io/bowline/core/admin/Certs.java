package io.bowline.core.admin;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import io.bowline.core.compile.TlsSources;
import io.bowline.core.config.TlsContextSource;
import io.envoyproxy.envoy.admin.v3.Certificate;
import io.envoyproxy.envoy.admin.v3.CertificateDetails;
import io.envoyproxy.envoy.admin.v3.Certificates;
import io.envoyproxy.envoy.admin.v3.SubjectAlternateName;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code /certs}: for every TLS context in use — each listener filter chain's and each cluster's — the CA it
 * trusts and the certificate it presents, with the file they came from (or {@code <inline>}, as SDS secrets are),
 * serial number, subject alternative names, validity and days until expiration: how an operator sees that a
 * workload certificate is about to run out. A context whose SDS secret has not arrived is left out, as in Envoy.
 */
final class Certs {
  private Certs() {}

  static String render(AdminContext server, Instant now) throws com.google.protobuf.InvalidProtocolBufferException {
    Set<TlsContextSource> contexts = new LinkedHashSet<>(); // a context shared by several filter chains: once
    for (var bound : server.listeners().bound()) {
      contexts.addAll(TlsSources.of(bound.config()));
    }
    for (var cluster : server.clusters().all().values()) {
      contexts.addAll(TlsSources.of(cluster.config()));
    }
    Certificates.Builder out = Certificates.newBuilder();
    for (TlsContextSource c : contexts) {
      TlsContextSource.Pems pems = c.pems();
      if (pems != null) {
        Certificate.Builder cert = Certificate.newBuilder();
        first(pems.ca()).ifPresent(x -> cert.addCaCert(details(x, pems.caPath(), now)));
        first(pems.chain()).ifPresent(x -> cert.addCertChain(details(x, pems.chainPath(), now)));
        out.addCertificates(cert);
      }
    }
    return JsonFormat.printer().preservingProtoFieldNames().print(out);
  }

  /** The first certificate of a PEM bundle: a chain's leaf, a CA bundle's first anchor (Envoy shows those). */
  private static java.util.Optional<X509Certificate> first(byte @Nullable [] pem) {
    if (pem == null) {
      return java.util.Optional.empty();
    }
    try {
      Collection<? extends java.security.cert.Certificate> all = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem));
      return all.stream().filter(X509Certificate.class::isInstance).map(X509Certificate.class::cast).findFirst();
    } catch (CertificateException e) {
      return java.util.Optional.empty(); // a context was built from it, so it parsed once
    }
  }

  static CertificateDetails details(X509Certificate x, @Nullable String path, Instant now) {
    Instant notAfter = x.getNotAfter().toInstant();
    return CertificateDetails.newBuilder().setPath(path == null ? "<inline>" : path)
        .setSerialNumber(x.getSerialNumber().toString(16))
        .addAllSubjectAltNames(sans(x))
        .setDaysUntilExpiration(notAfter.isBefore(now) ? 0 : Duration.between(now, notAfter).toDays())
        .setValidFrom(timestamp(x.getNotBefore().toInstant()))
        .setExpirationTime(timestamp(notAfter)).build();
  }

  private static List<SubjectAlternateName> sans(X509Certificate x) {
    List<SubjectAlternateName> out = new ArrayList<>();
    try {
      Collection<List<?>> names = x.getSubjectAlternativeNames();
      if (names == null) {
        return out;
      }
      for (List<?> n : names) {
        String value = String.valueOf(n.get(1));
        switch ((Integer) n.get(0)) {
          case 2 -> out.add(SubjectAlternateName.newBuilder().setDns(value).build());
          case 6 -> out.add(SubjectAlternateName.newBuilder().setUri(value).build());
          case 7 -> out.add(SubjectAlternateName.newBuilder().setIpAddress(value).build());
          default -> { } // other kinds Envoy does not list
        }
      }
    } catch (CertificateParsingException e) {
      // no readable SAN extension: none listed
    }
    return out;
  }

  private static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }
}
