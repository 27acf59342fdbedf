package io.bowline.filters.grpcstats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.bowline.core.testing.GrpcTestService;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.filters.BuiltinFilters;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * grpc_stats through a real proxy to a real gRPC server: per-method counters with stats_for_all_methods (success,
 * failure, total, message counts each way), and the cluster-wide ones with Istio's config (stats_for_all_methods:
 * false, emit_filter_state).
 */
@ExtendWith(LeakGuard.class)
class GrpcStatsIT {
  private static String listener(String name, String cluster, String config) {
    return """
          - name: NAME
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: NAME
                  route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: CLUSTER}}]}]}
                  http_filters:
                  - name: envoy.filters.http.grpc_stats
                    typed_config: CONFIG
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.replace("NAME", name).replace("CLUSTER", cluster).replace("CONFIG", config);
  }

  private static String cluster(String name) {
    return """
          - name: NAME
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment: {cluster_name: NAME, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("NAME", name);
  }

  @Test
  void callsAreCountedPerMethodOrTogether() throws Exception {
    io.grpc.Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new GrpcTestService()).build().start();
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
        """ + listener("each", "per_method", "{\"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig, stats_for_all_methods: true}")
        + listener("istio", "together", "{\"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig, emit_filter_state: true, stats_for_all_methods: false}")
        + "  clusters:\n" + cluster("per_method") + cluster("together");
    try (ProxyHarness proxy = ProxyHarness.start(BuiltinFilters.registry(), yaml, Map.of("PORT", grpc.getPort()))) {
      for (String listener : new String[] {"each", "istio"}) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", proxy.port(listener)).usePlaintext().build();
        try {
          CallOptions opts = CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS);
          Iterator<String> it = ClientCalls.blockingServerStreamingCall(ch, GrpcTestService.SERVER_STREAM, opts, "7");
          int n = 0;
          while (it.hasNext()) {
            it.next();
            n++;
          }
          assertEquals(7, n);
          assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(ch, GrpcTestService.FAIL,
              opts, "x"));
        } finally {
          ch.shutdownNow();
        }
      }
      String each = "cluster.per_method.grpc.test.Test.";
      assertEquals(1, proxy.stat(each + "ServerStream.success"));
      assertEquals(1, proxy.stat(each + "ServerStream.total"));
      assertEquals(1, proxy.stat(each + "ServerStream.request_message_count"));
      assertEquals(7, proxy.stat(each + "ServerStream.response_message_count"));
      assertEquals(1, proxy.stat(each + "Fail.failure"));
      assertEquals(0, proxy.stat(each + "Fail.success"));
      assertEquals(1, proxy.stat("cluster.together.grpc.success"));
      assertEquals(1, proxy.stat("cluster.together.grpc.failure"));
      assertEquals(2, proxy.stat("cluster.together.grpc.total"));
      assertEquals(7, proxy.stat("cluster.together.grpc.response_message_count"));
    } finally {
      grpc.shutdownNow();
    }
  }
}
