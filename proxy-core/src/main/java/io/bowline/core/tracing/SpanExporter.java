package io.bowline.core.tracing;

import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches finished spans off the event loops and sends them from one background thread: event loops only offer to
 * a bounded lock-free queue; a full queue drops the span and counts it ({@code tracing.<name>.spans_dropped}).
 * The thread hands each span to the exporter's {@link Batch} as it takes it, and a batch goes when it reaches
 * {@link #BATCH} spans or the flush interval passes.
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

  /** The spans taken since the last send, in whatever form the exporter sends them; touched by its thread only. */
  protected interface Batch {
    void append(SpanRecord span);

    /** Starts the next batch, whether the last one went or failed. */
    void clear();
  }

  /** A batch kept as the spans themselves, for an exporter that formats them all at once. */
  protected static final class Spans implements Batch {
    final java.util.List<SpanRecord> list = new java.util.ArrayList<>(BATCH);

    @Override
    public void append(SpanRecord span) {
      list.add(span);
    }

    @Override
    public void clear() {
      list.clear();
    }
  }

  private final Batch batch;

  protected SpanExporter(String name, Stats stats, long flushIntervalMs, Batch batch) {
    this.batch = batch;
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

  /** Sends the batch made so far; runs on the exporter thread, may block it (bounded by the exporter's timeout). */
  protected abstract void send() throws Exception;

  private void run() {
    int batched = 0;
    long lastFlush = System.nanoTime();
    while (true) {
      SpanRecord s = queue.poll();
      if (s != null) {
        batch.append(s);
        if (++batched >= BATCH) {
          flush(batched);
          batched = 0;
          lastFlush = System.nanoTime();
        }
        continue;
      }
      if (batched > 0 && (System.nanoTime() - lastFlush >= flushNanos || !running)) {
        timerFlushed.inc();
        flush(batched);
        batched = 0;
        lastFlush = System.nanoTime();
        continue;
      }
      if (!running) {
        return;
      }
      LockSupport.parkNanos(Math.min(flushNanos, TimeUnit.MILLISECONDS.toNanos(50)));
    }
  }

  private void flush(int spans) {
    try {
      send();
      spansSent.add(spans);
    } catch (Exception e) {
      exportFailed.inc();
      spansDropped.add(spans);
      logger.warn("trace export failed ({} spans dropped): {}", spans, e.toString());
    } finally {
      batch.clear();
    }
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
