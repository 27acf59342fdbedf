package io.bowline.filters.grpcstats;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.GrpcTestService;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.XdsResources;
import io.bowline.core.testing.XdsTestServer;
import io.bowline.filters.BuiltinFilters;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * grpc_stats counts under the cluster a call went to and keeps those counters per cluster; when CDS removes the
 * cluster its stats go, and when it comes back — the listener and its filter unchanged all along — the filter must
 * count into the new stats that {@code /stats} shows, not into the ones that went.
 */
@ExtendWith(LeakGuard.class)
class GrpcStatsClusterChurnIT {
  private static String listener() {
    return """
        name: http
        address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        filter_chains:
        - filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: in
              rds: {route_config_name: local, config_source: {ads: {}, resource_api_version: V3}}
              http_filters:
              - name: envoy.filters.http.grpc_stats
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig, emit_filter_state: true, stats_for_all_methods: false}
              - name: envoy.filters.http.router
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
  }

  private static String h2Cluster(String name) {
    return XdsResources.edsCluster(name) + """
        typed_extension_protocol_options:
          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
            explicit_http_config: {http2_protocol_options: {}}
        """;
  }

  @Test
  void aClusterAddedAgainIsCountedWhereStatsShowIt() throws Exception {
    io.grpc.Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new GrpcTestService()).build().start();
    try (XdsTestServer xds = XdsTestServer.tcp();
        ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), xds.bootstrap("DELTA_GRPC"), Map.of())) {
      List<String> both = List.of(h2Cluster("app"), h2Cluster("other"));
      List<String> endpoints = List.of(XdsResources.endpoints("app", grpc.getPort()),
          XdsResources.endpoints("other", grpc.getPort()));
      xds.set("1", both, endpoints, List.of(listener()), List.of(XdsResources.routes("/", "app")));
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", proxy.port("http")).usePlaintext().build();
      try {
        call(ch);
        assertEquals(1, proxy.stat("cluster.app.grpc.total"));

        xds.set("2", List.of(h2Cluster("other")), List.of(XdsResources.endpoints("other", grpc.getPort())),
            List.of(listener()), List.of(XdsResources.routes("/", "other")));
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.stat("cluster.app.grpc.total") == -1);
        call(ch);
        assertEquals(1, proxy.stat("cluster.other.grpc.total"));

        xds.set("3", both, endpoints, List.of(listener()), List.of(XdsResources.routes("/", "app")));
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.stat("cluster.app.upstream_cx_total") == 0);
        call(ch);
        call(ch);
        assertEquals(2, proxy.stat("cluster.app.grpc.total"), proxy.admin("/stats?filter=grpc"));
        assertEquals(2, proxy.stat("cluster.app.grpc.success"));
        assertEquals(1, proxy.stat("cluster.other.grpc.total"));
      } finally {
        ch.shutdownNow();
      }
    } finally {
      grpc.shutdownNow();
    }
  }

  private static void call(ManagedChannel ch) {
    assertEquals("echo: x", ClientCalls.blockingUnaryCall(ch, GrpcTestService.UNARY,
        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "x"));
  }
}
