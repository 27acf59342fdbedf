package io.bowline.core.transport;

import io.bowline.core.stats.Histogram;
import io.bowline.core.stats.Stats;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Envoy's dispatcher statistics (bootstrap {@code enable_dispatcher_stats}) for the worker event loops:
 * {@code listener_manager.worker_<n>.dispatcher.loop_duration_us}, how long each iteration of the loop worked (its
 * I/O, as Netty reports the active part of a poll, and the tasks after it), and {@code poll_delay_us}, how late the loop
 * woke when its poll timed out for a timer. Off by default, as in Envoy: two clock reads and two histogram samples per
 * iteration. A long loop iteration or a late wake-up is what a stalled request waits behind.
 */
public final class DispatcherStats implements IoHandlerFactory {
  private final IoHandlerFactory delegate;
  private final Stats stats;
  private final AtomicInteger workers = new AtomicInteger();

  public DispatcherStats(IoHandlerFactory delegate, Stats stats) {
    this.delegate = delegate;
    this.stats = stats;
  }

  @Override
  public IoHandler newHandler(ThreadAwareExecutor executor) {
    String scope = "listener_manager.worker_" + workers.getAndIncrement() + ".dispatcher.";
    return new Measured(delegate.newHandler(executor), stats.histogram(scope + "loop_duration_us"),
        stats.histogram(scope + "poll_delay_us"));
  }

  @Override
  public boolean isChangingThreadSupported() {
    return delegate.isChangingThreadSupported();
  }

  /** One loop's handler: the transport's own, timed. Confined to its loop's thread. */
  private static final class Measured implements IoHandler, IoHandlerContext {
    private final IoHandler io;
    private final Histogram loopDuration;
    private final Histogram pollDelay;
    private IoHandlerContext loop;
    private long activeNanos; // what the last poll spent on I/O, as the transport reports it
    private long lastEndNanos;
    private long lastActiveNanos;

    Measured(IoHandler io, Histogram loopDuration, Histogram pollDelay) {
      this.io = io;
      this.loopDuration = loopDuration;
      this.pollDelay = pollDelay;
    }

    @Override
    public int run(IoHandlerContext context) {
      long start = System.nanoTime();
      if (lastEndNanos != 0) { // the previous iteration: its poll's I/O, then the tasks until now
        loopDuration.recordNanos(micros(start - lastEndNanos + lastActiveNanos));
      }
      long timeout = context.canBlock() ? context.delayNanos(start) : -1;
      loop = context;
      activeNanos = 0;
      int handled = io.run(this);
      long end = System.nanoTime();
      if (timeout >= 0 && handled == 0) { // woken by its timer, not by I/O or a task (which wakes it early)
        long late = end - activeNanos - (start + timeout);
        if (late >= 0) {
          pollDelay.recordNanos(micros(late));
        }
      }
      lastEndNanos = end;
      lastActiveNanos = activeNanos;
      return handled;
    }

    /** A value in microseconds recorded into a histogram whose bounds read as Envoy's plain numbers. */
    private static long micros(long nanos) {
      return nanos / 1000 * 1_000_000;
    }

    @Override
    public boolean canBlock() {
      return loop.canBlock();
    }

    @Override
    public long delayNanos(long currentTimeNanos) {
      return loop.delayNanos(currentTimeNanos);
    }

    @Override
    public long deadlineNanos() {
      return loop.deadlineNanos();
    }

    @Override
    public boolean shouldReportActiveIoTime() {
      return true;
    }

    @Override
    public void reportActiveIoTime(long activeTime) {
      activeNanos = activeTime;
      if (loop.shouldReportActiveIoTime()) {
        loop.reportActiveIoTime(activeTime);
      }
    }

    @Override
    public void initialize() {
      io.initialize();
    }

    @Override
    public void prepareToDestroy() {
      io.prepareToDestroy();
    }

    @Override
    public void destroy() {
      io.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
      return io.register(handle);
    }

    @Override
    public void wakeup() {
      io.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
      return io.isCompatible(handleType);
    }
  }
}
