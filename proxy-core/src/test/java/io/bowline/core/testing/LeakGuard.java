package io.bowline.core.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty's leak detector (PARANOID in tests, see the surefire argLine) reports a leaked buffer
 * during it. Netty logs leaks through SLF4J → java.util.logging at ERROR; this catches those records.
 */
public final class LeakGuard implements BeforeEachCallback, AfterEachCallback {
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
  private static final Logger NETTY_LEAK = Logger.getLogger("io.netty.util.ResourceLeakDetector");

  static {
    NETTY_LEAK.addHandler(new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue() && String.valueOf(r.getMessage()).contains("LEAK")) {
          LEAKS.add(String.valueOf(r.getMessage()));
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    LEAKS.clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    // leaks are detected when a leaked buffer is collected and a later allocation polls the reference queue
    for (int i = 0; i < 3; i++) {
      System.gc();
      io.netty.buffer.ByteBuf b = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(16);
      b.release();
      io.netty.buffer.ByteBuf h = io.netty.buffer.UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
      h.release();
    }
    if (!LEAKS.isEmpty()) {
      throw new AssertionError("Netty reported a buffer leak: " + LEAKS.get(0));
    }
  }
}
