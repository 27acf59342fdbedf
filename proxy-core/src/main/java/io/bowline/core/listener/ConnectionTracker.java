package io.bowline.core.listener;

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
    void drain();
  }

  private final ConcurrentHashMap<Channel, Drainable> open = new ConcurrentHashMap<>();
  private final AtomicInteger count = new AtomicInteger();
  private volatile boolean draining;

  public void register(Channel ch, Drainable d) {
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
      ch.eventLoop().execute(d::drain);
    }
  }

  public boolean isDraining() {
    return draining;
  }

  /** Starts draining every connection open now and every one registered later. */
  public void drainAll() {
    draining = true;
    open.forEach((ch, d) -> ch.eventLoop().execute(d::drain));
  }

  public int openConnections() {
    return count.get();
  }

  public void closeAll() {
    open.keySet().forEach(Channel::close);
  }
}
