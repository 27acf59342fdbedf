package io.bowline.core.upstream;

import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says in the log why a cluster's requests fail to connect — at most once per {@value #INTERVAL_SECONDS} s per
 * cluster, with a count of the failures in between — so that a 503 {@code UF} has a line beside it naming the
 * address and the cause (Envoy logs these at debug only; the counter {@code upstream_cx_connect_fail} counts them
 * all). Shared by the cluster's event loops.
 */
final class ConnectFailureLog {
  private static final Logger logger = LoggerFactory.getLogger(ConnectFailureLog.class);
  static final long INTERVAL_SECONDS = 10;
  private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(INTERVAL_SECONDS);

  private final String cluster;
  /** When the next line may be written (System.nanoTime). */
  private final AtomicLong next = new AtomicLong(System.nanoTime());
  private final AtomicLong unsaid = new AtomicLong();

  ConnectFailureLog(String cluster) {
    this.cluster = cluster;
  }

  void failed(SocketAddress remote, Throwable cause) {
    long now = System.nanoTime();
    long at = next.get();
    if (now - at < 0 || !next.compareAndSet(at, now + INTERVAL_NANOS)) {
      unsaid.incrementAndGet();
      return;
    }
    long more = unsaid.getAndSet(0);
    logger.warn("cluster {}: cannot connect to {}: {}{}", cluster,
        remote instanceof java.net.InetSocketAddress a ? io.bowline.core.transport.AddressText.of(a) : remote,
        reason(cause),
        more == 0 ? "" : " (" + more + " more connect failures since the last such line)");
  }

  /** The cause's own words, without the address Netty appends to them. */
  private static String reason(Throwable cause) {
    String m = String.valueOf(cause.getMessage());
    int at = m.lastIndexOf(": /");
    return at > 0 ? m.substring(0, at) : m;
  }
}
