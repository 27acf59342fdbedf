package io.bowline.core.upstream;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** One endpoint of a cluster, shared by every event loop; {@link #activeRequests} feeds LEAST_REQUEST. */
public final class UpstreamHost {
  private final InetSocketAddress address;
  private final String hostname;
  private final int weight;
  final AtomicInteger activeRequests = new AtomicInteger();
  /** Outlier detection's view of this host (used only by clusters that configure it). */
  final OutlierDetector.HostState outlier = new OutlierDetector.HostState();

  public UpstreamHost(InetSocketAddress address, String hostname, int weight) {
    this.address = address;
    this.hostname = hostname;
    this.weight = weight;
  }

  public InetSocketAddress address() {
    return address;
  }

  /** The name the endpoint was configured with (an IP literal, or the DNS name it was resolved from). */
  public String hostname() {
    return hostname;
  }

  public int weight() {
    return weight;
  }

  public void requestStarted() {
    activeRequests.incrementAndGet();
  }

  public void requestEnded() {
    activeRequests.decrementAndGet();
  }

  public int activeRequests() {
    return activeRequests.get();
  }

  /** "ip:port", as Envoy prints upstream hosts. */
  public String addressString() {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UpstreamHost h && h.address.equals(address) && h.weight == weight;
  }

  @Override
  public int hashCode() {
    return address.hashCode() * 31 + weight;
  }

  @Override
  public String toString() {
    return addressString();
  }
}
