package io.bowline.conformance;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The longest collector pause of this JVM since the last {@link #takeMax}: a benchmark whose client runs in this JVM
 * tells its own pauses apart from the stalls of the process it measures.
 */
final class SelfGcPauses implements AutoCloseable {
  private final AtomicLong maxMillis = new AtomicLong();
  private final NotificationListener listener = (n, handback) -> {
    if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
      maxMillis.accumulateAndGet(info.getGcInfo().getDuration(), Math::max);
    }
  };

  SelfGcPauses() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).addNotificationListener(listener, null, null);
    }
  }

  long takeMax() {
    return maxMillis.getAndSet(0);
  }

  @Override
  public void close() throws Exception {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).removeNotificationListener(listener);
    }
  }
}
