package io.bowline.xds.ads;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.bowline.xds.ConfigException;
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

  /** Field 1, length-delimited: every subscribed type keeps its name there (a load assignment its cluster name). */
  private static final int NAME_TAG = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /**
   * The resource's name, as the xDS protocol keys it (a load assignment's is its cluster name), read off the wire:
   * parsing a whole resource here only to throw it away doubled the decoding of a large push — the applier decodes
   * each resource once, and NACKs one that does not decode, naming it.
   */
  public static String nameOf(Any resource, String typeUrl) throws ConfigException {
    if (!resource.getTypeUrl().equals(typeUrl)) {
      throw new ConfigException("resources[].@type", "expected " + typeUrl + ", got " + resource.getTypeUrl());
    }
    if (!ORDER.contains(typeUrl)) {
      throw new ConfigException("type_url", "bowline does not subscribe to " + typeUrl);
    }
    try {
      CodedInputStream in = resource.getValue().newCodedInput();
      String name = ""; // as parsing would: absent is empty, and the last occurrence wins
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (tag == NAME_TAG) {
          name = in.readStringRequireUtf8();
        } else {
          in.skipField(tag);
        }
      }
      return name;
    } catch (java.io.IOException e) { // InvalidProtocolBufferException: truncated, a bad tag or bad UTF-8
      throw new ConfigException("resources[]", "cannot decode " + typeUrl + ": " + e.getMessage());
    }
  }
}
