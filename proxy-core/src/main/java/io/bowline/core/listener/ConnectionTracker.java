package io.bowline.core.listener;

import org.jspecify.annotations.Nullable;
import io.netty.channel.Channel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every open downstream connection, with the hook that drains it: HTTP/1.1 answers its current response with
 * "Connection: close" and closes when idle, HTTP/2 sends GOAWAY, TCP proxying ends when either side does.
 */
public final class ConnectionTracker {
  /** How a connection drains; always run on the connection's event loop. */
  public interface Drainable {
    /**
     * Finish and close. {@code closeIdle}: an HTTP/1.1 connection with no request in flight closes now (shutdown);
     * otherwise it stays open until its next response, which carries "Connection: close" (a listener update, where
     * closing an idle keep-alive connection would race a client that is just sending on it).
     */
    void drain(boolean closeIdle);
  }

  private final ConcurrentHashMap<Channel, Drainable> open = new ConcurrentHashMap<>();
  private final AtomicInteger count = new AtomicInteger();
  private final @Nullable ConnectionTracker parent;
  private volatile boolean draining;
  private volatile boolean closeIdle;

  public ConnectionTracker() {
    this(null);
  }

  private ConnectionTracker(@Nullable ConnectionTracker parent) {
    this.parent = parent;
  }

  /**
   * A tracker for one part of the connections (one listener's, under one configuration) whose connections are also
   * counted here, so that a listener update can drain just its old connections and shutdown still sees them all.
   */
  public ConnectionTracker child() {
    return new ConnectionTracker(this);
  }

  public void register(Channel ch, Drainable d) {
    if (parent != null) {
      parent.register(ch, d);
    }
    if (open.put(ch, d) != null) {
      return; // re-registered with a new drain hook (h2c took over an HTTP/1.1 connection)
    }
    count.incrementAndGet();
    ch.closeFuture().addListener(f -> {
      if (open.remove(ch) != null) {
        count.decrementAndGet();
      }
    });
    if (draining) {
      boolean idle = closeIdle;
      ch.eventLoop().execute(() -> d.drain(idle));
    }
  }

  public boolean isDraining() {
    return draining;
  }

  /** Starts draining every connection open now and every one registered later. */
  public void drainAll(boolean closeIdleConnections) {
    closeIdle = closeIdleConnections;
    draining = true;
    open.forEach((ch, d) -> ch.eventLoop().execute(() -> d.drain(closeIdleConnections)));
  }

  public int openConnections() {
    return count.get();
  }

  /** Closes every connection now: a lingering close ({@code delayed_close_timeout}) does not wait either. */
  public void closeAll() {
    open.keySet().forEach(io.bowline.core.transport.LingeringClose::closeNow);
  }
}
