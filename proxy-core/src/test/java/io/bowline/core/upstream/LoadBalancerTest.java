package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadBalancerTest {
  private static UpstreamHost host(int port, int weight) {
    return new UpstreamHost(new InetSocketAddress("127.0.0.1", port), "h" + port, weight);
  }

  @Test
  void weightedRoundRobinIsSmoothAndExact() {
    HostSet set = new HostSet(List.of(host(1, 5), host(2, 1), host(3, 1)));
    LoadBalancer lb = new LoadBalancer.RoundRobin();
    Map<Integer, Integer> counts = new HashMap<>();
    int maxRun = 0;
    int run = 0;
    int last = -1;
    for (int i = 0; i < 700; i++) {
      int p = lb.choose(set).address().getPort();
      counts.merge(p, 1, Integer::sum);
      run = p == last ? run + 1 : 1;
      last = p;
      maxRun = Math.max(maxRun, run);
    }
    assertEquals(500, counts.get(1));
    assertEquals(100, counts.get(2));
    assertEquals(100, counts.get(3));
    assertTrue(maxRun <= 4, "smooth: the heavy host is interleaved, longest run " + maxRun);
  }

  @Test
  void leastRequestPrefersIdleHosts() {
    UpstreamHost busy = host(1, 1);
    UpstreamHost idle = host(2, 1);
    for (int i = 0; i < 50; i++) {
      busy.requestStarted();
    }
    HostSet set = new HostSet(List.of(busy, idle));
    LoadBalancer lb = new LoadBalancer.LeastRequest(2);
    int idleChosen = 0;
    for (int i = 0; i < 1000; i++) {
      if (lb.choose(set) == idle) {
        idleChosen++;
      }
    }
    assertTrue(idleChosen > 700, "P2C picks the idle host whenever it draws it: " + idleChosen);
  }

  @Test
  void emptySetHasNoHost() {
    assertEquals(null, new LoadBalancer.RoundRobin().choose(HostSet.EMPTY));
  }
}
