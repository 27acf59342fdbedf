package io.bowline.core.xds;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.XdsResources;
import io.bowline.core.testing.XdsTestServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What Istio's pilot-agent asks before it reports the pod ready: {@code /stats?usedonly&filter=^(server\.state|
 * listener_manager\.workers_started)$}, expecting Envoy's numbers — INITIALIZING (3) and no workers started while
 * the first xDS configuration is awaited, LIVE (0) and workers started after it.
 */
@ExtendWith(LeakGuard.class)
class IstioReadinessIT {
  private static final String QUERY = "/stats?usedonly&filter=%5E(server%5C.state%7Clistener_manager%5C.workers_started)%24";

  @Test
  void serverStateAndWorkersStartedAsTheAgentReadsThem() throws Exception {
    try (TestBackend backend = TestBackend.start();
        XdsTestServer xds = XdsTestServer.tcp();
        ProxyHarness proxy = ProxyHarness.start(xds.bootstrap("DELTA_GRPC"), Map.of())) {
      assertEquals("listener_manager.workers_started: 0\nserver.state: 3\n", proxy.admin(QUERY));
      xds.set("1", List.of(XdsResources.edsCluster("svc")), List.of(XdsResources.endpoints("svc", backend.port())),
          List.of(XdsResources.listener("in")), List.of(XdsResources.routes("/", "svc")));
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.adminResponse("GET", "/ready").statusCode() == 200);
      assertEquals("listener_manager.workers_started: 1\nserver.state: 0\n", proxy.admin(QUERY));
    }
  }
}
