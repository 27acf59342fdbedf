package io.bowline.xds.ads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.List;
import org.junit.jupiter.api.Test;

class TypeUrlsTest {
  @Test
  void everySubscribedTypeKeepsItsNameInFieldOne() {
    // nameOf reads field 1 off the wire: this holds it to the Envoy API it was written against
    List<Descriptor> types = List.of(Cluster.getDescriptor(), ClusterLoadAssignment.getDescriptor(),
        Listener.getDescriptor(), RouteConfiguration.getDescriptor(), Secret.getDescriptor());
    for (Descriptor d : types) {
      String field = d.equals(ClusterLoadAssignment.getDescriptor()) ? "cluster_name" : "name";
      assertEquals(1, d.findFieldByName(field).getNumber(), d.getFullName());
      assertTrue(TypeUrls.ORDER.contains("type.googleapis.com/" + d.getFullName()), d.getFullName());
    }
  }

  @Test
  void namesAsParsingWouldGiveThem() throws ConfigException {
    Message[] resources = {
        Cluster.newBuilder().setConnectTimeout(Duration.newBuilder().setSeconds(1)).setName("outbound|80||a.ns")
            .build(),
        ClusterLoadAssignment.newBuilder().setClusterName("outbound|80||b.ns").build(),
        Listener.newBuilder().setName("0.0.0.0_8080").setStatPrefix("x").build(),
        RouteConfiguration.newBuilder().setName("8080").setValidateClusters(
            com.google.protobuf.BoolValue.of(true)).build(),
        Secret.newBuilder().setName("default").build(),
        Cluster.getDefaultInstance()};
    for (Message m : resources) {
      Any any = Any.pack(m);
      String expected = (String) m.getField(m.getDescriptorForType().findFieldByNumber(1));
      assertEquals(expected, TypeUrls.nameOf(any, any.getTypeUrl()));
    }
  }

  @Test
  void theLastOccurrenceOfTheNameWins() throws Exception {
    ByteString twice = Cluster.newBuilder().setName("first").build().toByteString()
        .concat(Cluster.newBuilder().setName("second").build().toByteString());
    assertEquals("second", Cluster.parseFrom(twice.toByteArray()).getName());
    Any any = Any.newBuilder().setTypeUrl(TypeUrls.CLUSTER).setValue(twice).build();
    assertEquals("second", TypeUrls.nameOf(any, TypeUrls.CLUSTER));
  }

  @Test
  void undecodableAndMistypedResourcesAreRefusedWithTheirField() {
    byte[] truncated = Cluster.newBuilder().setName("abcdef").build().toByteArray();
    Any cut = Any.newBuilder().setTypeUrl(TypeUrls.CLUSTER)
        .setValue(ByteString.copyFrom(truncated, 0, truncated.length - 2)).build();
    ConfigException e = assertThrows(ConfigException.class, () -> TypeUrls.nameOf(cut, TypeUrls.CLUSTER));
    assertTrue(e.getMessage().contains("cannot decode"), e.getMessage());

    Any badUtf8 = Any.newBuilder().setTypeUrl(TypeUrls.CLUSTER)
        .setValue(ByteString.copyFrom(new byte[] {0x0a, 0x02, (byte) 0xc3, 0x28})).build();
    assertThrows(ConfigException.class, () -> TypeUrls.nameOf(badUtf8, TypeUrls.CLUSTER));

    Any listener = Any.pack(Listener.newBuilder().setName("l").build());
    e = assertThrows(ConfigException.class, () -> TypeUrls.nameOf(listener, TypeUrls.CLUSTER));
    assertTrue(e.getMessage().contains("expected " + TypeUrls.CLUSTER), e.getMessage());
  }
}
