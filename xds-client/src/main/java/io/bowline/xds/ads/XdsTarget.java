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
public record XdsTarget(@Nullable InetSocketAddress tcp, @Nullable String udsPath, String clusterName) {

  public static XdsTarget tcp(InetSocketAddress address, String clusterName) {
    return new XdsTarget(address, null, clusterName);
  }

  public static XdsTarget uds(String path, String clusterName) {
    return new XdsTarget(null, path, clusterName);
  }

  /** A plaintext HTTP/2 channel whose callbacks run on {@code executor}. */
  ManagedChannel open(Executor executor) {
    NettyChannelBuilder b;
    if (udsPath != null) {
      b = NettyChannelBuilder.forAddress(new DomainSocketAddress(udsPath))
          .channelType(EpollDomainSocketChannel.class)
          .eventLoopGroup(UdsLoop.GROUP);
    } else {
      b = NettyChannelBuilder.forAddress(tcp);
    }
    return b.negotiationType(NegotiationType.PLAINTEXT)
        .executor(executor)
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
    return clusterName + (udsPath != null ? " (unix:" + udsPath + ")" : " (" + tcp + ")");
  }
}
