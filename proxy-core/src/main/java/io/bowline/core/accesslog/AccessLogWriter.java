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
 * while the facts are still in its cache, and as Envoy's workers do — and copies it into its block for that file; a
 * block goes to a bounded lock-free queue when it is full or 50 ms after its first line (a thread that is no event
 * loop queues each line alone). When the queue is full the lines are dropped and counted
 * ({@code filesystem.write_dropped}), so logging never blocks traffic. Written blocks come back to the loops to be
 * filled again. Files are flushed every
 * {@code --file-flush-interval-msec} (and when the buffer fills), as Envoy's are, and reopened on
 * {@link #reopen()} (admin {@code /reopen_logs}) so a rotated file is let go.
 */
public final class AccessLogWriter implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AccessLogWriter.class);

  /** Lines for one destination: {@code lines} whole lines in the first {@code length} bytes of {@code bytes}. */
  private record Entry(Destination to, byte[] bytes, int length, int lines) {}

  /** An event loop's lines are handed over in blocks of up to this many bytes... */
  static final int BLOCK_BYTES = 16 * 1024;
  /** ...or this long after the block's first line, whichever comes first. */
  static final long BLOCK_DELAY_MS = 50;

  /** Each formatting thread's line, reused for every entry it formats. */
  private static final io.netty.util.concurrent.FastThreadLocal<LineBuilder> LINE =
      new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected LineBuilder initialValue() {
          return new LineBuilder();
        }
      };

  /** Each event loop's blocks; made on the loop's first line. */
  private final io.netty.util.concurrent.FastThreadLocal<LoopBlocks> blocks =
      new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected @org.jspecify.annotations.Nullable LoopBlocks initialValue() {
          io.netty.util.concurrent.EventExecutor loop = io.netty.util.internal.ThreadExecutorMap.currentExecutor();
          if (loop == null) {
            return null; // not an event loop: each line goes to the queue alone
          }
          LoopBlocks b = new LoopBlocks(loop);
          allBlocks.add(b);
          return b;
        }
      };
  private final java.util.Queue<LoopBlocks> allBlocks = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Blocks the writer has written, for the loops to fill again instead of allocating. */
  private final org.jctools.queues.MpmcArrayQueue<byte[]> spare = new org.jctools.queues.MpmcArrayQueue<>(64);
  /** At most 1,024 blocks or lines wait (16 MiB of blocks); beyond that lines are dropped and counted. */
  private final MpscArrayQueue<Entry> queue = new MpscArrayQueue<>(1024);
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
    LoopBlocks b = blocks.get();
    if (b == null) {
      hand(new Entry(to, line.toByteArray(), line.length(), 1));
    } else {
      b.add(to, line);
    }
  }

  private void hand(Entry e) {
    if (!queue.offer(e)) {
      dropped.add(e.lines());
    }
  }

  private byte[] block() {
    byte[] b = spare.poll();
    return b != null ? b : new byte[BLOCK_BYTES];
  }

  /**
   * One event loop's lines not yet handed to the writer, a block per destination: the loop copies each line into
   * its block instead of allocating it, and the queue and the writer see a block of lines at a time. Touched by its
   * loop only, and by {@link #close()} once the loops have stopped.
   */
  private final class LoopBlocks implements Runnable {
    private final io.netty.util.concurrent.EventExecutor loop;
    private final java.util.ArrayList<Block> open = new java.util.ArrayList<>(2);
    private boolean scheduled;

    LoopBlocks(io.netty.util.concurrent.EventExecutor loop) {
      this.loop = loop;
    }

    void add(Destination d, LineBuilder line) {
      int n = line.length();
      Block b = blockFor(d);
      if (n > BLOCK_BYTES / 4) {
        b.handOver(); // the lines before it first: a loop's lines stay in order
        hand(new Entry(d, line.toByteArray(), n, 1)); // a long line goes alone rather than half a block
        return;
      }
      if (b.length + n > BLOCK_BYTES) {
        b.handOver();
      }
      if (b.bytes == null) {
        b.bytes = block();
      }
      line.copyTo(b.bytes, b.length);
      b.length += n;
      b.lines++;
      if (!scheduled) {
        scheduled = true;
        loop.schedule(this, BLOCK_DELAY_MS, TimeUnit.MILLISECONDS);
      }
    }

    private Block blockFor(Destination d) {
      for (int i = 0; i < open.size(); i++) {
        Block b = open.get(i);
        if (b.to == d) {
          return b;
        }
      }
      Block b = new Block(d);
      open.add(b);
      return b;
    }

    /** The delay after a block's first line is up: everything this loop holds goes to the writer. */
    @Override
    public void run() {
      scheduled = false;
      for (int i = 0; i < open.size(); i++) {
        open.get(i).handOver();
      }
    }
  }

  /** One loop's unsent lines for one destination: {@code lines} whole lines in the first {@code length} bytes. */
  private final class Block {
    final Destination to;
    byte @org.jspecify.annotations.Nullable [] bytes;
    int length;
    int lines;

    Block(Destination to) {
      this.to = to;
    }

    void handOver() {
      if (lines > 0) {
        hand(new Entry(to, bytes, length, lines));
        bytes = null;
        length = 0;
        lines = 0;
      }
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
      if (e.to().write(e.bytes(), e.length())) {
        writeCompleted.add(e.lines());
      } else {
        writeFailed.add(e.lines());
      }
      if (e.bytes().length == BLOCK_BYTES) {
        spare.offer(e.bytes()); // full when 64 wait: then it is garbage
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
    // the loops have stopped (Server shuts them down first): their unsent blocks go now; a loop still running is
    // asked to send its own
    for (LoopBlocks b : allBlocks) {
      if (!b.loop.isTerminated()) {
        try {
          b.loop.submit(b).awaitUninterruptibly(1000);
          continue;
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
          try {
            b.loop.awaitTermination(2, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
      b.run();
    }
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

    boolean write(byte[] bytes, int length) {
      try {
        out.write(bytes, 0, length);
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
