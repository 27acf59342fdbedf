package io.bowline.core.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Envoy's priority load: the examples of its "Priority levels" and "Panic threshold" documentation. */
class PrioritySetTest {
  /** {@code healthy} of {@code total} hosts at each priority, in order. */
  static HostSet hosts(int... healthyAndTotal) {
    List<UpstreamHost> out = new ArrayList<>();
    int port = 1000;
    for (int p = 0; p < healthyAndTotal.length / 2; p++) {
      for (int i = 0; i < healthyAndTotal[2 * p + 1]; i++) {
        out.add(new UpstreamHost(new InetSocketAddress("127.0.0.1", port++), "h", 1, p, i < healthyAndTotal[2 * p]));
      }
    }
    return new HostSet(out);
  }

  static int[] loads(int... healthyAndTotal) {
    return PrioritySet.of(hosts(healthyAndTotal), null, 140, 50).loads();
  }

  @Test
  void aDegradedPriorityZeroSpillsOverToPriorityOne() {
    assertArrayEquals(new int[] {100, 0}, loads(100, 100, 100, 100));
    assertArrayEquals(new int[] {100, 0}, loads(72, 100, 100, 100), "1.4 × 72% is over 100%");
    assertArrayEquals(new int[] {99, 1}, loads(71, 100, 100, 100));
    assertArrayEquals(new int[] {70, 30}, loads(50, 100, 100, 100));
    assertArrayEquals(new int[] {35, 65}, loads(25, 100, 100, 100));
    assertArrayEquals(new int[] {0, 100}, loads(0, 100, 100, 100));
  }

  @Test
  void threePriorities() {
    assertArrayEquals(new int[] {0, 70, 30}, loads(0, 10, 5, 10, 10, 10));
    assertArrayEquals(new int[] {14, 70, 16}, loads(1, 10, 5, 10, 10, 10));
  }

  @Test
  void healthUnderOneHundredIsNormalised() {
    // 20% and 20% healthy: 28% each, 56% in all, so each priority takes half
    assertArrayEquals(new int[] {50, 50}, loads(2, 10, 2, 10));
  }

  @Test
  void totalPanicUsesEveryHostByHostCount() {
    PrioritySet s = PrioritySet.of(hosts(1, 10, 1, 30), null, 140, 50);
    assertArrayEquals(new int[] {25, 75}, s.loads(), "14% + 4.67% of health: under the 50% threshold");
    assertEquals(10, s.pick(0).hosts().size(), "every host of priority 0, healthy or not");
    assertEquals(30, s.pick(99).hosts().size());
  }

  @Test
  void aPriorityInPanicUsesAllItsHostsAndAHealthyOneOnlyItsHealthy() {
    PrioritySet s = PrioritySet.of(hosts(4, 10, 5, 10), null, 140, 50);
    assertArrayEquals(new int[] {56, 44}, s.loads(), "56% and 70% of health: 126% in all is not short");
    assertEquals(4, s.pick(0).hosts().size(), "the priorities together have enough: no panic");
    s = PrioritySet.of(hosts(2, 10, 6, 10), null, 140, 50);
    assertArrayEquals(new int[] {28, 72}, s.loads(), "28% and 84% of health: 112% in all");
    assertEquals(2, s.pick(0).hosts().size());
    s = PrioritySet.of(hosts(1, 20, 13, 20), null, 140, 50);
    assertEquals(20, s.pick(0).hosts().size(), "7% + 91% = 98% in all is short: 5% healthy is in panic");
    assertEquals(true, s.pick(0).panic);
    assertEquals(13, s.pick(99).hosts().size(), "65% healthy: only the healthy hosts");
    assertEquals(false, s.pick(99).panic);
  }

  @Test
  void panicOnlyWhileThePrioritiesTogetherAreShort() {
    // Envoy's "Panic threshold" table: P=0 and P=1 healthy, whether each is in panic
    int[][] table = {{72, 72, 0, 0}, {71, 71, 0, 0}, {50, 60, 0, 0}, {25, 100, 0, 0}, {25, 25, 1, 1},
        {5, 65, 1, 0}};
    for (int[] row : table) {
      PrioritySet s = PrioritySet.of(hosts(row[0], 100, row[1], 100), null, 140, 50);
      String what = row[0] + "% / " + row[1] + "%";
      assertEquals(row[2] == 1, s.pick(0).panic, what + ": priority 0 in panic");
      assertEquals(row[3] == 1, s.pick(99).panic, what + ": priority 1 in panic");
    }
  }

  @Test
  void ejectedHostsCountAsUnhealthy() {
    HostSet all = hosts(10, 10, 10, 10);
    PrioritySet s = PrioritySet.of(all, h -> h.priority() == 0 && h.address().getPort() < 1005, 140, 50);
    assertArrayEquals(new int[] {70, 30}, s.loads());
    assertEquals(5, s.pick(0).hosts().size());
  }

  @Test
  void oneHealthyPriorityIsTheWholeSetAsIs() {
    HostSet all = hosts(3, 3);
    PrioritySet s = PrioritySet.of(all, null, 140, 50);
    assertEquals(all, s.pick(42));
    assertArrayEquals(new int[] {100}, s.loads());
  }

  @Test
  void withoutAPanicThresholdNothingHealthyMeansNoHost() {
    PrioritySet s = PrioritySet.of(hosts(0, 3), null, 140, 0);
    assertEquals(0, s.pick(0).hosts().size());
  }

  @Test
  void aRetryLeavingOutPriorityZeroSpreadsOverTheOthersByHealth() {
    PrioritySet s = PrioritySet.of(hosts(1, 1, 1, 1, 1, 1), null, 140, 50);
    assertEquals(0, s.pick(99).hosts().get(0).priority(), "all healthy: priority 0 takes everything");
    java.util.Set<Integer> zero = java.util.Set.of(0);
    assertEquals(1, s.pickExcluding(0, zero).hosts().get(0).priority());
    assertEquals(1, s.pickExcluding(49, zero).hosts().get(0).priority());
    assertEquals(2, s.pickExcluding(50, zero).hosts().get(0).priority(), "the rest split between 1 and 2 by health");
    assertEquals(0, s.pickExcluding(10, java.util.Set.of(0, 1, 2)).hosts().get(0).priority(),
        "every priority left out: the normal load");
  }

  /** One priority of {@code total} hosts: the first {@code healthy} healthy, the next {@code degraded} degraded. */
  static HostSet withDegraded(int healthy, int degraded, int total) {
    List<UpstreamHost> out = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      out.add(new UpstreamHost(new InetSocketAddress("127.0.0.1", 2000 + i), "h", 1, 0, i < healthy + degraded)
          .edsDegraded(i >= healthy && i < healthy + degraded));
    }
    return new HostSet(out);
  }

  @Test
  void degradedHostsTakeOnlyWhatTheHealthyOnesCannot() {
    // Envoy's "Degraded endpoints" table, in percent of priority 0's hosts: healthy / degraded / unhealthy
    int[][] table = {{100, 0, 0, 100, 0}, {71, 0, 29, 100, 0}, {71, 29, 0, 99, 1}, {25, 65, 10, 35, 65},
        {5, 0, 95, 100, 0}};
    for (int[] row : table) {
      PrioritySet s = PrioritySet.of(withDegraded(row[0], row[1], 100), null, 140, 50);
      String what = row[0] + "/" + row[1] + "/" + row[2];
      assertEquals(row[3], s.loads()[0], what + " to the healthy hosts");
      assertEquals(row[4], s.degradedLoads()[0], what + " to the degraded hosts");
    }
    PrioritySet s = PrioritySet.of(withDegraded(25, 65, 100), null, 140, 50);
    assertEquals(25, s.pick(34).hosts().size(), "the first 35 draws: the healthy hosts");
    assertEquals(65, s.pick(35).hosts().size(), "the rest: the degraded ones");
    assertEquals(true, s.pick(99).hosts().stream().allMatch(UpstreamHost::degraded));
  }

  @Test
  void degradedHostsCountAgainstPanic() {
    // 30% healthy + 30% degraded is 60% available: no panic, so unhealthy hosts get nothing
    PrioritySet s = PrioritySet.of(withDegraded(30, 30, 100), null, 140, 50);
    assertEquals(false, s.pick(0).panic);
    assertEquals(30, s.pick(0).hosts().size());
    // 20% + 20%: 40% is under the threshold, every host takes requests
    PrioritySet panicking = PrioritySet.of(withDegraded(20, 20, 100), null, 140, 50);
    assertEquals(100, panicking.pick(99).hosts().size());
    assertEquals(true, panicking.pick(0).panic);
  }
}
