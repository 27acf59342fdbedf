package io.bowline.core.accesslog;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes access-log lines from a single background thread. Event loops only offer an entry to a bounded lock-free
 * queue; when the queue is full the entry is dropped and counted, so logging never blocks traffic.
 */
public final class AccessLogWriter implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AccessLogWriter.class);

  private final MpscArrayQueue<AccessLogEntry> queue = new MpscArrayQueue<>(65536);
  private final OutputStream out;
  private final Thread thread;
  private final long flushIntervalMs;
  private volatile boolean running = true;
  private final java.util.concurrent.atomic.LongAdder dropped = new java.util.concurrent.atomic.LongAdder();

  private AccessLogWriter(OutputStream out, String name, long flushIntervalMs) {
    this.out = out;
    this.flushIntervalMs = flushIntervalMs;
    this.thread = new Thread(this::run, "bowline-access-log-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  public static AccessLogWriter stdout(long flushIntervalMs) {
    return new AccessLogWriter(new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), false),
        "stdout", flushIntervalMs);
  }

  public static AccessLogWriter stderr(long flushIntervalMs) {
    return new AccessLogWriter(new PrintStream(new FileOutputStream(java.io.FileDescriptor.err), false),
        "stderr", flushIntervalMs);
  }

  public static AccessLogWriter file(String path, long flushIntervalMs) throws IOException {
    return new AccessLogWriter(new FileOutputStream(path, true), path, flushIntervalMs);
  }

  public void log(AccessLogEntry e) {
    if (!queue.offer(e)) {
      dropped.increment();
    }
  }

  public long dropped() {
    return dropped.sum();
  }

  private void run() {
    long lastFlush = System.nanoTime();
    boolean dirty = false;
    while (running || !queue.isEmpty()) {
      AccessLogEntry e = queue.poll();
      try {
        if (e == null) {
          if (dirty && (System.nanoTime() - lastFlush) >= TimeUnit.MILLISECONDS.toNanos(flushIntervalMs)) {
            out.flush();
            dirty = false;
            lastFlush = System.nanoTime();
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(flushIntervalMs, 50)));
          continue;
        }
        out.write(e.format().getBytes(StandardCharsets.UTF_8));
        dirty = true;
      } catch (IOException ex) {
        logger.warn("access log write failed: {}", ex.getMessage());
      }
    }
    try {
      out.flush();
    } catch (IOException ignored) {
      // the process is ending
    }
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
