package io.bowline.xds.ads;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Where the management server is: a TCP address from a static cluster, or a unix socket ({@code pipe: {path}}),
 * which is how Istio's pilot-agent serves xDS to its Envoy.
 */
public record XdsTarget(@Nullable InetSocketAddress tcp, @Nullable String udsPath, String clusterName,
    @Nullable Tls tls) {

  /**
   * TLS to the management server, from the cluster's UpstreamTlsContext: the trust anchors (none: the JDK's), an
   * optional client certificate, and the SNI, which is also the name the server's certificate must carry.
   */
  public record Tls(byte @Nullable [] trustedCa, byte @Nullable [] certificateChain, byte @Nullable [] privateKey,
      String sni) {}

  public static XdsTarget tcp(InetSocketAddress address, String clusterName) {
    return new XdsTarget(address, null, clusterName, null);
  }

  public static XdsTarget uds(String path, String clusterName) {
    return new XdsTarget(null, path, clusterName, null);
  }

  public XdsTarget withTls(Tls tls) {
    return new XdsTarget(tcp, udsPath, clusterName, tls);
  }

  /** An HTTP/2 channel (plaintext, or TLS when configured) whose callbacks run on {@code executor}. */
  ManagedChannel open(Executor executor) {
    NettyChannelBuilder b;
    if (udsPath != null) {
      b = NettyChannelBuilder.forAddress(new DomainSocketAddress(udsPath))
          .channelType(EpollDomainSocketChannel.class)
          .eventLoopGroup(UdsLoop.GROUP);
    } else {
      b = NettyChannelBuilder.forAddress(tcp);
    }
    if (tls != null) {
      try {
        var ssl = io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient();
        if (tls.trustedCa() != null) {
          ssl.trustManager(new java.io.ByteArrayInputStream(tls.trustedCa()));
        }
        if (tls.certificateChain() != null && tls.privateKey() != null) {
          ssl.keyManager(new java.io.ByteArrayInputStream(tls.certificateChain()),
              new java.io.ByteArrayInputStream(tls.privateKey()));
        }
        b.sslContext(ssl.build()).negotiationType(NegotiationType.TLS);
        if (!tls.sni().isEmpty()) {
          b.overrideAuthority(tls.sni());
        }
      } catch (javax.net.ssl.SSLException e) {
        throw new IllegalArgumentException("TLS to " + clusterName + ": " + e.getMessage(), e);
      }
    } else {
      b.negotiationType(NegotiationType.PLAINTEXT);
    }
    return b.executor(executor)
        .maxInboundMessageSize(Integer.MAX_VALUE) // a mesh's full CDS can be hundreds of MB, as Envoy allows
        .build();
  }

  /** One daemon loop for every unix-socket channel, created on first use. */
  private static final class UdsLoop {
    static final EpollEventLoopGroup GROUP = new EpollEventLoopGroup(1,
        new io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory("bowline-xds-uds", true));
  }

  @Override
  public String toString() {
    return clusterName + (udsPath != null ? " (unix:" + udsPath + ")" : " (" + tcp + (tls != null ? ", TLS" : "")
        + ")");
  }
}
