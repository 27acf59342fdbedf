package io.bowline.core.http;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Paces a response body to a byte rate, as the fault filter's {@code response_rate_limit} asks: every 1/16 s the
 * body may advance by a sixteenth of the rate (Envoy's stream rate limiter refills at that pace). Chunks wait here,
 * split where the allowance ends; while more than {@link #HIGH_WATER} bytes wait, the upstream is paused. Confined
 * to the stream's event loop.
 */
final class ResponseThrottle {
  static final long TICK_MS = 1000 / 16;
  static final long HIGH_WATER = 64 * 1024;

  private final DownstreamSink sink;
  private final EventLoop loop;
  private final long bytesPerTick;
  /** Pauses (false) and resumes (true) reading the upstream response. */
  private final Consumer<Boolean> upstreamReadable;
  /** Called once the last chunk has been written. */
  private final Runnable ended;
  /** Called after each write: the stream is not idle while its body trickles out. */
  private final Runnable progressed;
  private final ArrayDeque<HttpContent> queue = new ArrayDeque<>();
  private long queued;
  private long allowance;
  private boolean paused;
  private @Nullable ScheduledFuture<?> timer;

  ResponseThrottle(DownstreamSink sink, long bytesPerSecond, Consumer<Boolean> upstreamReadable, Runnable ended,
      Runnable progressed) {
    this.sink = sink;
    this.loop = sink.eventLoop();
    this.bytesPerTick = Math.max(1, bytesPerSecond / 16);
    this.upstreamReadable = upstreamReadable;
    this.ended = ended;
    this.progressed = progressed;
    this.allowance = bytesPerTick;
  }

  /** Takes a body chunk (owned from here on); writes what the allowance permits now. */
  void write(HttpContent content) {
    queue.add(content);
    queued += content.content().readableBytes();
    if (queued > HIGH_WATER && !paused) {
      paused = true;
      upstreamReadable.accept(false);
    }
    drain();
  }

  private void drain() {
    boolean wrote = false;
    while (!queue.isEmpty()) {
      HttpContent head = queue.peek();
      int n = head.content().readableBytes();
      if (n > 0 && allowance <= 0) {
        break;
      }
      if (n <= allowance) {
        queue.poll();
        allowance -= n;
        queued -= n;
        sink.write(head);
        wrote = true;
        if (head instanceof LastHttpContent) {
          cancelTimer();
          sink.flush();
          progressed.run();
          ended.run();
          return;
        }
      } else {
        int take = (int) allowance;
        sink.write(new DefaultHttpContent(head.content().readRetainedSlice(take)));
        allowance = 0;
        queued -= take;
        wrote = true;
      }
    }
    if (wrote) {
      sink.flush();
      progressed.run();
    }
    if (paused && queued <= HIGH_WATER / 2) {
      paused = false;
      upstreamReadable.accept(true);
    }
    if (!queue.isEmpty() && timer == null) {
      timer = loop.schedule(this::tick, TICK_MS, TimeUnit.MILLISECONDS);
    }
  }

  /** Whether the throttle holds the upstream paused (the downstream's writability must not resume it). */
  boolean holdsUpstream() {
    return paused;
  }

  private void tick() {
    timer = null;
    allowance = bytesPerTick; // no bursts: what a tick did not use is lost, as with a bucket one tick deep
    drain();
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** The stream ended early (reset): what still waits is dropped. */
  void release() {
    cancelTimer();
    HttpContent c;
    while ((c = queue.poll()) != null) {
      c.release();
    }
    queued = 0;
  }
}
