package io.bowline.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoopTimersTest {
  private final EventLoop loop = new DefaultEventLoop();
  private final List<String> fired = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() throws Exception {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  /** A timer that records its name and when it expired, in nanoseconds since {@code since}. */
  private final class Named extends LoopTimers.Timer {
    final String name;
    volatile long expiredAt;

    Named(String name) {
      this.name = name;
    }

    @Override
    protected void expire() {
      expiredAt = System.nanoTime();
      fired.add(name);
    }
  }

  private <T> T onLoop(Callable<T> c) throws Exception {
    return loop.submit(c).get(5, TimeUnit.SECONDS);
  }

  private void awaitFired(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (fired.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
  }

  @Test
  void timersOfOneDurationExpireInOrderAndNeverEarly() throws Exception {
    Named a = new Named("a");
    Named b = new Named("b");
    Named c = new Named("c");
    long armed = onLoop(() -> {
      long t = System.nanoTime();
      a.arm(loop, 40);
      b.arm(loop, 40);
      c.arm(loop, 40);
      return t;
    });
    awaitFired(3);
    assertEquals(List.of("a", "b", "c"), fired);
    assertTrue(a.expiredAt - armed >= TimeUnit.MILLISECONDS.toNanos(39), "not before its deadline");
    assertFalse(onLoop(a::armed), "disarmed once expired");
  }

  @Test
  void aCancelledTimerNeverExpiresAndTheNextKeepsItsOwnDeadline() throws Exception {
    Named first = new Named("first");
    Named second = new Named("second");
    long armed = onLoop(() -> {
      first.arm(loop, 30);
      Thread.sleep(20);
      long t = System.nanoTime();
      second.arm(loop, 30);
      first.cancel();
      first.cancel(); // twice is fine
      return t;
    });
    awaitFired(1);
    Thread.sleep(50);
    assertEquals(List.of("second"), fired);
    assertTrue(second.expiredAt - armed >= TimeUnit.MILLISECONDS.toNanos(29),
        "the list's task, due at the cancelled head's deadline, waits again for the new head");
  }

  @Test
  void reArmingMovesTheDeadlineAndAnExpiryMayArmAgain() throws Exception {
    int[] rounds = {0};
    LoopTimers.Timer repeating = new LoopTimers.Timer() {
      @Override
      protected void expire() {
        fired.add("tick");
        if (++rounds[0] < 3) {
          arm(loop, 10); // the same list it is expiring from
        }
      }
    };
    Named moved = new Named("moved");
    long armed = onLoop(() -> {
      repeating.arm(loop, 10);
      moved.arm(loop, 10);
      moved.arm(loop, 60); // re-armed before it fired: only the later deadline counts
      return System.nanoTime();
    });
    awaitFired(4);
    assertEquals(List.of("tick", "tick", "tick", "moved"), fired);
    assertTrue(moved.expiredAt - armed >= TimeUnit.MILLISECONDS.toNanos(59));
  }

  @Test
  void aTimerReArmedFromItsExpiryDoesNotDelayTheOnesBehindIt() throws Exception {
    Named behind = new Named("behind");
    LoopTimers.Timer again = new LoopTimers.Timer() {
      private boolean first = true;

      @Override
      protected void expire() {
        fired.add("again");
        if (first) {
          first = false;
          arm(loop, 60); // to the tail of the list it is expiring from, behind "behind"
        }
      }
    };
    long behindArmed = onLoop(() -> {
      again.arm(loop, 60);
      Thread.sleep(20);
      long t = System.nanoTime();
      behind.arm(loop, 60);
      return t;
    });
    awaitFired(3);
    assertEquals(List.of("again", "behind", "again"), fired);
    long late = behind.expiredAt - behindArmed - TimeUnit.MILLISECONDS.toNanos(60);
    assertTrue(late >= 0 && late < TimeUnit.MILLISECONDS.toNanos(30), "expired " + late / 1000 + " us after its deadline");
  }

  @Test
  void moreDurationsThanTheLoopKeepsListsForFallBackToTheirOwnTasks() throws Exception {
    int n = LoopTimers.MAX_QUEUES + 4;
    Named[] timers = new Named[n];
    for (int i = 0; i < n; i++) {
      timers[i] = new Named("t" + i);
    }
    int lists = onLoop(() -> {
      for (int i = 0; i < n; i++) {
        timers[i].arm(loop, 20 + i);
      }
      timers[n - 1].cancel(); // a fallback task is cancelled too
      timers[0].cancel();
      return LoopTimers.of(loop).queues();
    });
    assertEquals(LoopTimers.MAX_QUEUES, lists);
    awaitFired(n - 2);
    Thread.sleep(60);
    assertEquals(n - 2, fired.size());
    assertFalse(fired.contains("t0"));
    assertFalse(fired.contains("t" + (n - 1)));
    // lists that emptied are reused for new durations once their tasks have run
    Named late = new Named("late");
    assertEquals(LoopTimers.MAX_QUEUES, (int) onLoop(() -> {
      late.arm(loop, 5);
      return LoopTimers.of(loop).queues();
    }));
    awaitFired(n - 1);
    assertTrue(fired.contains("late"));
  }

  @Test
  void armedOffItsLoopATimerStillExpiresOnTheLoop() throws Exception {
    Thread[] on = new Thread[1];
    LoopTimers.Timer t = new LoopTimers.Timer() {
      @Override
      protected void expire() {
        on[0] = Thread.currentThread();
        fired.add("t");
      }
    };
    t.arm(loop, 10); // from the test's thread: a Netty task of its own
    assertTrue(t.armed());
    awaitFired(1);
    assertEquals(List.of("t"), fired);
    assertTrue(loop.submit(() -> Thread.currentThread() == on[0]).get(5, TimeUnit.SECONDS));
    assertFalse(t.armed());
    assertEquals(null, LoopTimers.of(loop), "no lists for a thread that is not the loop's");
  }
}
