package io.bowline.core.accesslog;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every access-log line of the process on one background thread. An event loop formats its entry itself —
 * while the facts are still in its cache, and as Envoy's workers do — and offers the line's bytes to a bounded
 * lock-free queue; when it is full the line is dropped and counted ({@code filesystem.write_dropped}), so logging
 * never blocks traffic. Files are flushed every
 * {@code --file-flush-interval-msec} (and when the buffer fills), as Envoy's are, and reopened on
 * {@link #reopen()} (admin {@code /reopen_logs}) so a rotated file is let go.
 */
public final class AccessLogWriter implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AccessLogWriter.class);

  private record Entry(Destination to, byte[] line) {}

  /** Each formatting thread's line, reused for every entry it formats. */
  private static final io.netty.util.concurrent.FastThreadLocal<LineBuilder> LINE =
      new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected LineBuilder initialValue() {
          return new LineBuilder();
        }
      };

  private final MpscArrayQueue<Entry> queue = new MpscArrayQueue<>(65536);
  private final ConcurrentHashMap<String, Destination> destinations = new ConcurrentHashMap<>();
  private final long flushIntervalNanos;
  private final Counter dropped;
  private final Counter writeCompleted;
  private final Counter writeFailed;
  private final Counter flushedByTimer;
  private final Counter reopenFailed;
  private final Object startLock = new Object();
  private volatile Thread thread;
  private volatile boolean running = true;
  private volatile boolean reopenRequested;

  public AccessLogWriter(Stats stats, long flushIntervalMs) {
    this.flushIntervalNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, flushIntervalMs));
    this.dropped = stats.counter("filesystem.write_dropped");
    this.writeCompleted = stats.counter("filesystem.write_completed");
    this.writeFailed = stats.counter("filesystem.write_failed");
    this.flushedByTimer = stats.counter("filesystem.flushed_by_timer");
    this.reopenFailed = stats.counter("filesystem.reopen_failed");
  }

  /** A file (or /dev/stdout, /dev/stderr); opened once and shared by every log that names it. */
  public Destination destination(String path) throws IOException {
    Destination d = destinations.get(path);
    if (d != null) {
      return d;
    }
    synchronized (destinations) {
      d = destinations.get(path);
      if (d == null) {
        d = new Destination(path);
        destinations.put(path, d);
      }
    }
    ensureStarted();
    return d;
  }

  /** Formats one entry on the calling thread and queues its bytes; never blocks. */
  void offer(Destination to, LogFormat format, AccessLogFacts facts) {
    LineBuilder line = LINE.get();
    line.reset();
    try {
      format.format(facts, line);
    } catch (RuntimeException ex) {
      writeFailed.inc();
      warnFormatFailure(to, ex);
      return;
    }
    if (!queue.offer(new Entry(to, line.toByteArray()))) {
      dropped.inc();
    }
  }

  private volatile long lastFormatWarning;

  /** At most one warning a second: formatting fails for every entry alike, and an event loop must not flood. */
  private void warnFormatFailure(Destination to, RuntimeException ex) {
    long now = System.nanoTime();
    if (now - lastFormatWarning > TimeUnit.SECONDS.toNanos(1)) {
      lastFormatWarning = now;
      logger.warn("access log: cannot format an entry for {}: {}", to.path, ex.toString());
    }
  }

  /** Asks the writer thread to close and reopen every file (after log rotation). */
  public void reopen() {
    reopenRequested = true;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  private void ensureStarted() {
    if (thread != null) {
      return;
    }
    synchronized (startLock) {
      if (thread == null) {
        Thread t = new Thread(this::run, "bowline-access-log");
        t.setDaemon(true);
        thread = t;
        t.start();
      }
    }
  }

  private void run() {
    long lastFlush = System.nanoTime();
    while (running || !queue.isEmpty()) {
      if (reopenRequested) {
        reopenRequested = false;
        flushAll();
        destinations.values().forEach(d -> {
          if (!d.reopen()) {
            reopenFailed.inc();
          }
        });
      }
      Entry e = queue.poll();
      if (e == null) {
        if (System.nanoTime() - lastFlush >= flushIntervalNanos) {
          if (flushAll()) {
            flushedByTimer.inc();
          }
          lastFlush = System.nanoTime();
        }
        LockSupport.parkNanos(Math.min(flushIntervalNanos, TimeUnit.MILLISECONDS.toNanos(20)));
        continue;
      }
      if (e.to().write(e.line())) {
        writeCompleted.inc();
      } else {
        writeFailed.inc();
      }
    }
    flushAll();
  }

  private boolean flushAll() {
    boolean any = false;
    for (Destination d : destinations.values()) {
      any |= d.flush();
    }
    return any;
  }

  @Override
  public void close() {
    running = false;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
      try {
        t.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    destinations.values().forEach(Destination::close);
  }

  /** One output; touched only by the writer thread once opened. */
  public final class Destination {
    private final String path;
    private OutputStream out;
    private boolean dirty;
    private boolean failing;

    private Destination(String path) throws IOException {
      this.path = path;
      this.out = open(path);
    }

    public AccessLogWriter writer() {
      return AccessLogWriter.this;
    }

    private static OutputStream open(String path) throws IOException {
      return switch (path) {
        case "/dev/stdout" -> new BufferedOutputStream(new FileOutputStream(java.io.FileDescriptor.out), 64 * 1024);
        case "/dev/stderr" -> new BufferedOutputStream(new FileOutputStream(java.io.FileDescriptor.err), 64 * 1024);
        default -> new BufferedOutputStream(new FileOutputStream(path, true), 64 * 1024);
      };
    }

    boolean write(byte[] line) {
      try {
        out.write(line);
        dirty = true;
        failing = false;
        return true;
      } catch (IOException ex) {
        if (!failing) {
          logger.warn("access log {}: write failed: {}", path, ex.getMessage());
          failing = true;
        }
        return false;
      }
    }

    boolean flush() {
      if (!dirty) {
        return false;
      }
      dirty = false;
      try {
        out.flush();
      } catch (IOException ex) {
        logger.warn("access log {}: flush failed: {}", path, ex.getMessage());
      }
      return true;
    }

    boolean reopen() {
      if (path.equals("/dev/stdout") || path.equals("/dev/stderr")) {
        return true;
      }
      try {
        OutputStream fresh = open(path);
        close();
        out = fresh;
        return true;
      } catch (IOException ex) {
        logger.warn("access log {}: reopen failed: {}", path, ex.getMessage());
        return false;
      }
    }

    void close() {
      try {
        out.flush();
        if (!path.equals("/dev/stdout") && !path.equals("/dev/stderr")) {
          out.close();
        }
      } catch (IOException ignored) {
        // the process is ending or the file is being replaced
      }
    }
  }
}
