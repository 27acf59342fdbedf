package io.bowline.core.filter;

import java.net.InetSocketAddress;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * A new downstream connection as a connection gate sees it: its addresses, its TLS session and SNI, and its
 * connection-scoped filter state, which a gate may add to (Istio's authn filter puts the peer principal there) and
 * which every HTTP stream of the connection then reads.
 */
public record ConnectionInfo(InetSocketAddress remote, InetSocketAddress local, @Nullable SSLSession tls,
    @Nullable String serverName, java.util.Map<String, String> filterState) {
  /**
   * The peer proxy's node metadata, on a downstream or upstream channel, once a network filter learned it (Istio's TCP
   * metadata exchange); reports on the connection read it.
   */
  public static final io.netty.util.AttributeKey<com.google.protobuf.Struct> PEER_METADATA =
      io.netty.util.AttributeKey.valueOf("bowline.peer_metadata");
}
