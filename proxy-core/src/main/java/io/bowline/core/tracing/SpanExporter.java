package io.bowline.core.tracing;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches finished spans off the event loops and sends them from one background thread: event loops only offer to
 * a bounded lock-free queue; a full queue drops the span and counts it ({@code tracing.<name>.spans_dropped}).
 * A batch goes when it reaches {@link #BATCH} spans or the flush interval passes.
 */
public abstract class SpanExporter implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(SpanExporter.class);
  static final int BATCH = 512;

  private final MpscArrayQueue<SpanRecord> queue = new MpscArrayQueue<>(8192);
  private final Thread thread;
  private final long flushNanos;
  private volatile boolean running = true;
  protected final Counter spansSent;
  protected final Counter spansDropped;
  protected final Counter timerFlushed;
  protected final Counter exportFailed;

  protected SpanExporter(String name, Stats stats, long flushIntervalMs) {
    this.flushNanos = TimeUnit.MILLISECONDS.toNanos(flushIntervalMs);
    Stats.Scope scope = stats.scope("tracing." + name + ".");
    this.spansSent = scope.counter("spans_sent");
    this.spansDropped = scope.counter("spans_dropped");
    this.timerFlushed = scope.counter("timer_flushed");
    this.exportFailed = scope.counter("export_failed");
    this.thread = new Thread(this::run, "bowline-trace-export-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a finished span; never blocks. */
  public void export(SpanRecord span) {
    if (!queue.offer(span)) {
      spansDropped.inc();
    }
  }

  /** Sends one batch; runs on the exporter thread, may block it (bounded by the exporter's own timeout). */
  protected abstract void send(List<SpanRecord> batch) throws Exception;

  private void run() {
    List<SpanRecord> batch = new ArrayList<>(BATCH);
    long lastFlush = System.nanoTime();
    while (true) {
      SpanRecord s = queue.poll();
      if (s != null) {
        batch.add(s);
        if (batch.size() >= BATCH) {
          flush(batch);
          lastFlush = System.nanoTime();
        }
        continue;
      }
      if (!batch.isEmpty() && (System.nanoTime() - lastFlush >= flushNanos || !running)) {
        timerFlushed.inc();
        flush(batch);
        lastFlush = System.nanoTime();
        continue;
      }
      if (!running) {
        return;
      }
      LockSupport.parkNanos(Math.min(flushNanos, TimeUnit.MILLISECONDS.toNanos(50)));
    }
  }

  private void flush(List<SpanRecord> batch) {
    try {
      send(List.copyOf(batch));
      spansSent.add(batch.size());
    } catch (Exception e) {
      exportFailed.inc();
      spansDropped.add(batch.size());
      logger.warn("trace export failed ({} spans dropped): {}", batch.size(), e.toString());
    }
    batch.clear();
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(3000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
