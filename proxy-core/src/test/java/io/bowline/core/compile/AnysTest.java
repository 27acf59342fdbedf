package io.bowline.core.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import org.junit.jupiter.api.Test;

/** Unpacking as protobuf's own Any.unpack does: same message, same refusals. */
class AnysTest {
  @Test
  void unpacksWhatAnyPackedAndRefusesWhatItWouldRefuse() throws Exception {
    Cluster c = Cluster.newBuilder().setName("a").setConnectTimeout(com.google.protobuf.Duration.newBuilder()
        .setSeconds(2)).build();
    Any any = Any.pack(c);
    assertEquals(c, Anys.unpack(any, Cluster.class));
    assertEquals(any.unpack(Cluster.class), Anys.unpack(any, Cluster.class));

    InvalidProtocolBufferException wrongType =
        assertThrows(InvalidProtocolBufferException.class, () -> Anys.unpack(any, ClusterLoadAssignment.class));
    assertThrows(InvalidProtocolBufferException.class, () -> any.unpack(ClusterLoadAssignment.class));
    assertTrue(wrongType.getMessage().contains("does not match"));

    Any noSlash = any.toBuilder().setTypeUrl("envoy.config.cluster.v3.Cluster").build();
    assertThrows(InvalidProtocolBufferException.class, () -> Anys.unpack(noSlash, Cluster.class));
    assertThrows(InvalidProtocolBufferException.class, () -> noSlash.unpack(Cluster.class));

    Any corrupt = any.toBuilder().setValue(ByteString.copyFrom(new byte[] {0x0a, 0x7f, 0x01})).build();
    assertThrows(InvalidProtocolBufferException.class, () -> Anys.unpack(corrupt, Cluster.class));

    Any otherHost = any.toBuilder().setTypeUrl("example.com/x/envoy.config.cluster.v3.Cluster").build();
    assertEquals(c, Anys.unpack(otherHost, Cluster.class));
  }

  @Test
  void typeUrlNamesOnlyTheWholeName() {
    assertTrue(Anys.names("type.googleapis.com/a.B", "a.B"));
    assertFalse(Anys.names("type.googleapis.com/a.BC", "a.B"));
    assertFalse(Anys.names("type.googleapis.com/xa.B", "a.B"));
    assertFalse(Anys.names("a.B", "a.B"));
    assertFalse(Anys.names("type.googleapis.com/", "a.B"));
  }
}
