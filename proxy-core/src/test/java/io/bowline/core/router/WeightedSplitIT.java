package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A canary split, as Istio's weighted VirtualService routes compile: 80/20 over 10,000 requests within ±2 points. */
@ExtendWith(LeakGuard.class)
class WeightedSplitIT {
  @Test
  void eightyTwentyHoldsOverTenThousandRequests() throws Exception {
    try (TestBackend stable = TestBackend.start(); TestBackend canary = TestBackend.start()) {
      String yaml = ProxyHarness.simpleHttp("", "").replace("route: {cluster: backend}",
          "route: {weighted_clusters: {clusters: [{name: backend, weight: 80}, {name: canary, weight: 20}]}}")
          + """
            - name: canary
              type: STATIC
              load_assignment: {cluster_name: canary, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${CANARY}}}}}]}]}
          """;
      try (ProxyHarness proxy = ProxyHarness.start(yaml, Map.of("BACKEND", stable.port(), "CANARY", canary.port()))) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          Thread th = new Thread(() -> {
            int i;
            while ((i = next.getAndIncrement()) < 10_000) {
              try {
                if (client.send(HttpRequest.newBuilder(proxy.uri("http", "/split/" + i)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
                  failed.incrementAndGet();
                }
              } catch (Exception e) {
                failed.incrementAndGet();
              }
            }
          });
          th.start();
          threads.add(th);
        }
        for (Thread th : threads) {
          th.join();
        }
        assertEquals(0, failed.get());
        int toCanary = canary.requestsTo("/split");
        int toStable = stable.requestsTo("/split");
        assertEquals(10_000, toCanary + toStable);
        double share = toCanary / 100.0;
        System.out.printf("weighted split 80/20: canary got %.2f%% of 10,000%n", share);
        assertTrue(share >= 18 && share <= 22, "canary share " + share + "% (20 ± 2)");
      }
    }
  }
}
