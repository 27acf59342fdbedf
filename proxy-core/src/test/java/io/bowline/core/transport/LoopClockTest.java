package io.bowline.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class LoopClockTest {
  @Test
  void oneReadingPerEventTheSystemClockOutside() {
    long before = LoopClock.nanoTime();
    LockSupport.parkNanos(2_000_000);
    long outside = LoopClock.nanoTime();
    assertTrue(outside - before >= 2_000_000, "outside an event the clock runs");

    long outer = LoopClock.enter();
    long eventStart = LoopClock.nanoTime();
    assertTrue(eventStart >= outside);
    LockSupport.parkNanos(2_000_000);
    assertEquals(eventStart, LoopClock.nanoTime(), "within one event: the time it started");

    long inner = LoopClock.enter(); // a nested event reads the clock again
    long nestedStart = LoopClock.nanoTime();
    assertTrue(nestedStart - eventStart >= 2_000_000);
    LoopClock.exit(inner);
    assertEquals(eventStart, LoopClock.nanoTime(), "the outer event's time again");

    LoopClock.exit(outer);
    LockSupport.parkNanos(1_000_000);
    assertTrue(LoopClock.nanoTime() - eventStart >= 3_000_000, "after the event the clock runs again");
  }
}
