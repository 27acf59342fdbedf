package io.bowline.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.bowline.xds.bootstrap.EnvoyTypes;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import org.junit.jupiter.api.Test;

/** Envoy's redaction of /config_dump: fields marked sensitive, wherever they are, Anys opened. */
class RedactionTest {
  private final Redaction redaction = new Redaction(EnvoyTypes.registry());

  private static TlsCertificate certificate(DataSource key) {
    return TlsCertificate.newBuilder().setCertificateChain(DataSource.newBuilder().setInlineString("CHAIN"))
        .setPrivateKey(key).build();
  }

  private static String json(com.google.protobuf.MessageOrBuilder m) throws Exception {
    return JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).print(m);
  }

  @Test
  void staticSecretsKeysAndPasswordsAreRedactedTheChainShows() throws Exception {
    Bootstrap b = Bootstrap.newBuilder().setStaticResources(Bootstrap.StaticResources.newBuilder()
        .addSecrets(Secret.newBuilder().setName("default").setTlsCertificate(certificate(DataSource.newBuilder()
            .setInlineBytes(ByteString.copyFromUtf8("-----BEGIN PRIVATE KEY-----")).build()).toBuilder()
            .setPassword(DataSource.newBuilder().setInlineString("hunter2"))))
        .addSecrets(Secret.newBuilder().setName("tickets").setSessionTicketKeys(TlsSessionTicketKeys.newBuilder()
            .addKeys(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8("k1")))
            .addKeys(DataSource.newBuilder().setFilename("/etc/keys/k2")))))
        .build();
    Bootstrap r = redaction.redact(b);
    TlsCertificate c = r.getStaticResources().getSecrets(0).getTlsCertificate();
    assertEquals("[redacted]", c.getPrivateKey().getInlineBytes().toStringUtf8(), "bytes stay bytes, as Envoy's do");
    assertEquals("[redacted]", c.getPassword().getInlineString());
    assertEquals("CHAIN", c.getCertificateChain().getInlineString());
    var keys = r.getStaticResources().getSecrets(1).getSessionTicketKeys();
    assertEquals("[redacted]", keys.getKeys(0).getInlineBytes().toStringUtf8());
    assertEquals("[redacted]", keys.getKeys(1).getFilename(), "everything under a sensitive field");
    assertFalse(json(r).contains("hunter2") || json(r).contains("PRIVATE KEY") || json(r).contains("k2"));
  }

  @Test
  void contextsPackedInAnysAreOpened() throws Exception {
    Any upstream = Any.pack(UpstreamTlsContext.newBuilder().setSni("reviews").setCommonTlsContext(
        CommonTlsContext.newBuilder().addTlsCertificates(certificate(DataSource.newBuilder()
            .setInlineString("SECRET-KEY").build()))).build());
    Cluster cluster = Cluster.newBuilder().setName("c").setTransportSocket(TransportSocket.newBuilder()
        .setName("envoy.transport_sockets.tls").setTypedConfig(upstream)).build();
    // as xDS delivered it: the cluster itself in an Any, its context an Any inside that
    Any delivered = redaction.redact(Any.pack(cluster));
    Cluster r = delivered.unpack(Cluster.class);
    UpstreamTlsContext tls = r.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertEquals("[redacted]", tls.getCommonTlsContext().getTlsCertificates(0).getPrivateKey().getInlineString());
    assertEquals("reviews", tls.getSni());
    assertEquals("CHAIN", tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());

    Listener listener = Listener.newBuilder().setName("l").addFilterChains(FilterChain.newBuilder().setTransportSocket(
        TransportSocket.newBuilder().setName("tls").setTypedConfig(Any.pack(DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(CommonTlsContext.newBuilder().addTlsCertificates(certificate(DataSource.newBuilder()
                .setInlineString("SECRET-KEY").build()))).build())))).build();
    assertFalse(json(redaction.redact(listener)).contains("SECRET-KEY"));
    assertTrue(json(listener).contains("SECRET-KEY"), "the original is untouched");
  }

  @Test
  void whatHoldsNothingSensitiveIsReturnedAsItIs() {
    Cluster plain = Cluster.newBuilder().setName("plain").setTransportSocket(TransportSocket.newBuilder()
        .setName("tls").setTypedConfig(Any.pack(UpstreamTlsContext.newBuilder().setSni("x").build()))).build();
    assertSame(plain, redaction.redact(plain));
    Any packed = Any.pack(plain);
    assertSame(packed, redaction.redact(packed));
    Any unknown = Any.newBuilder().setTypeUrl("type.googleapis.com/not.a.Type").setValue(ByteString.copyFromUtf8("x"))
        .build();
    assertSame(unknown, redaction.redact(unknown));
  }
}
