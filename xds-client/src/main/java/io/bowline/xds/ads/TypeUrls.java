package io.bowline.xds.ads;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.List;

/** The v3 resource types bowline subscribes to, in the order Envoy asks for them (clusters before listeners). */
public final class TypeUrls {
  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  public static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  /** Subscription order on a new stream: CDS, EDS, LDS, RDS, SDS. */
  public static final List<String> ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET);

  private TypeUrls() {}

  /** Listeners and clusters are subscribed by wildcard; the others by the names the config refers to. */
  public static boolean isWildcard(String typeUrl) {
    return typeUrl.equals(CLUSTER) || typeUrl.equals(LISTENER);
  }

  /** Envoy's short name for a type: {@code lds}, {@code cds}, ... (used in stats and logs). */
  public static String shortName(String typeUrl) {
    return switch (typeUrl) {
      case CLUSTER -> "cds";
      case ENDPOINT -> "eds";
      case LISTENER -> "lds";
      case ROUTE -> "rds";
      case SECRET -> "sds";
      default -> typeUrl;
    };
  }

  /** The resource's name, as the xDS protocol keys it (a load assignment's is its cluster name). */
  public static String nameOf(Any resource, String typeUrl) throws ConfigException {
    if (!resource.getTypeUrl().equals(typeUrl)) {
      throw new ConfigException("resources[].@type", "expected " + typeUrl + ", got " + resource.getTypeUrl());
    }
    try {
      return switch (typeUrl) {
        case CLUSTER -> resource.unpack(Cluster.class).getName();
        case ENDPOINT -> resource.unpack(ClusterLoadAssignment.class).getClusterName();
        case LISTENER -> resource.unpack(Listener.class).getName();
        case ROUTE -> resource.unpack(RouteConfiguration.class).getName();
        case SECRET -> resource.unpack(Secret.class).getName();
        default -> throw new ConfigException("type_url", "bowline does not subscribe to " + typeUrl);
      };
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException("resources[]", "cannot decode " + typeUrl + ": " + e.getMessage());
    }
  }
}
