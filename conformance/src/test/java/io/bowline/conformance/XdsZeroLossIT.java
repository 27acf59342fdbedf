package io.bowline.conformance;

import static io.bowline.core.testing.XdsResources.edsCluster;
import static io.bowline.core.testing.XdsResources.endpoints;
import static io.bowline.core.testing.XdsResources.header;
import static io.bowline.core.testing.XdsResources.listener;
import static io.bowline.core.testing.XdsResources.route;
import static io.bowline.core.testing.XdsResources.split;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.XdsTestServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/bowline} (leak detection at SIMPLE: PARANOID's per-buffer stack traces would make the load, not the
 * pushes, the bottleneck; the other tests run PARANOID) configured by a real xDS server (java-control-plane) while it carries a continuous load: 200
 * pushes (route weights, endpoint churn, a cluster added and removed, the listener changed every 20th push) lose
 * no request on the routes that stay configured. Then a bad push is NACKed and changes nothing, and the management
 * server going away and coming back disturbs nothing. The counts are printed.
 */
class XdsZeroLossIT {
  static final int PUSHES = 200;
  static final int CLIENTS = 16;
  static final int RPS_PER_CLIENT = 75;

  @Test
  void twoHundredPushesUnderLoadLoseNothing(@TempDir Path dir) throws Exception {
    TestBackend a = TestBackend.start();
    TestBackend b = TestBackend.start();
    TestBackend c = TestBackend.start();
    XdsTestServer first = XdsTestServer.tcp();
    XdsTestServer[] server = {first};
    int xdsPort = first.port();
    try {
      XdsTestServer xds = first;
      push(xds, 0, a, b, c);
      Path config = dir.resolve("bootstrap.yaml");
      Files.writeString(config, xds.bootstrap("GRPC"));
      try (BowlineProcess bowline = BowlineProcess.startWithJvmOpts(dir, "-Dio.netty.leakDetection.level=simple", "-c",
          config.toString()).awaitReady()) {
        int port = bowline.listenerPort("http");
        Load load = new Load(URI.create("http://127.0.0.1:" + port + "/stable/"));
        load.start();
        Thread.sleep(500);
        long t0 = System.nanoTime();
        for (int i = 1; i <= PUSHES; i++) {
          push(xds, i, a, b, c);
          Thread.sleep(50);
        }
        Thread.sleep(1000);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long before = load.total.get();
        // a resource bowline cannot carry out: NACKed, nothing changes, traffic goes on
        xds.set(String.valueOf(PUSHES + 1), List.of(edsCluster("svc-a"), edsCluster("svc-b"),
            edsCluster("svc-bad") + "lb_policy: LOAD_BALANCING_POLICY_CONFIG\n"), List.of(endpoints("svc-a", a.port()),
            endpoints("svc-b", b.port())), List.of(listener("ingress")), List.of(stableRoutes(50, false)));
        awaitTrue(() -> xds.nacks.stream().anyMatch(n -> n.contains("Cluster[svc-bad].lb_policy")), "NACK");
        // the management server goes away and comes back on the same port
        xds.close();
        awaitTrue(() -> bowline.stat("control_plane.connected_state") == 0, "disconnected");
        Thread.sleep(1000);
        server[0] = XdsTestServer.tcp(xdsPort);
        push(server[0], PUSHES + 2, a, b, c);
        awaitTrue(() -> bowline.stat("control_plane.connected_state") == 1, "reconnected");
        Thread.sleep(1000);
        load.stop();
        System.out.printf("xDS zero-loss: %d requests in %.1f s of pushes (%.0f rps), %d pushes, %d failed, "
            + "%d reset; after the NACK and the server restart %d more requests, total failed %d%n",
            before, seconds, before / seconds, PUSHES, load.failed.get(), load.resets.get(),
            load.total.get() - before, load.failed.get());
        System.out.printf("  %d GETs sent again after their idle keep-alive connection had closed%n",
            Client.RESENT.get());
        System.out.printf("  applied: cds %d, lds %d updates; requests reached backends a=%d b=%d c=%d%n",
            bowline.stat("cluster_manager.cds.update_success"), bowline.stat("listener_manager.lds.update_success"),
            a.requestsTo("/stable"), b.requestsTo("/stable"), c.requestsTo("/stable"));
        load.failures.stream().limit(5).forEach(f -> System.out.println("  failure: " + f));
        assertEquals(0, load.failed.get(), "failed requests: " + load.failures);
        assertTrue(before / seconds >= 500, "load was " + before / seconds + " rps");
        assertTrue(bowline.stat("cluster_manager.cds.update_success") >= 10);
        assertTrue(bowline.stat("listener_manager.lds.update_success") >= 10);
        assertTrue(a.requestsTo("/stable") > 0 && b.requestsTo("/stable") > 0 && c.requestsTo("/stable") > 0);
      }
    } finally {
      first.close();
      server[0].close();
      a.close();
      b.close();
      c.close();
    }
  }

  /** Push {@code i}: weights move, endpoints churn, svc-c comes and goes, the listener changes every 20th push. */
  static void push(XdsTestServer xds, int i, TestBackend a, TestBackend b, TestBackend c) {
    boolean extra = i % 4 < 2;
    List<String> clusters = new ArrayList<>(List.of(edsCluster("svc-a"), edsCluster("svc-b")));
    List<String> eps = new ArrayList<>();
    eps.add(switch (i % 3) {
      case 0 -> endpoints("svc-a", a.port());
      case 1 -> endpoints("svc-a", a.port(), c.port());
      default -> endpoints("svc-a", c.port());
    });
    eps.add(i % 2 == 0 ? endpoints("svc-b", b.port()) : endpoints("svc-b", b.port(), c.port()));
    if (extra) {
      clusters.add(edsCluster("svc-c"));
      eps.add(endpoints("svc-c", c.port()));
    }
    xds.set(String.valueOf(i), clusters, eps, List.of(listener("ingress_" + i / 20)),
        List.of(stableRoutes(1 + (i * 37) % 99, extra)));
  }

  static String stableRoutes(int weightA, boolean extra) {
    String r = header();
    if (extra) {
      r += route("/extra", "{cluster: svc-c}");
    }
    return r + route("/stable", split("svc-a", weightA, "svc-b"));
  }

  /**
   * A paced HTTP/1.1 keep-alive load from several clients; every non-200 or I/O error is a failure. Each client is a
   * plain socket writing a GET and reading its response whole (java.net.http's client cost so much CPU per request
   * that on a slow 2-core machine the test JVM could not offer 500 rps beside the xDS server and the backends). Like
   * that client, a GET whose reused connection turns out closed before any byte of the response is sent again once
   * on a new connection; a connection the response says to close is closed.
   */
  static final class Load {
    final URI base;
    final AtomicLong total = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong resets = new AtomicLong();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final CountDownLatch done = new CountDownLatch(CLIENTS);

    Load(URI base) {
      this.base = base;
    }

    void start() {
      for (int t = 0; t < CLIENTS; t++) {
        int id = t;
        Thread th = new Thread(() -> {
          long interval = 1_000_000_000L / RPS_PER_CLIENT;
          long next = System.nanoTime();
          long n = 0;
          Client client = new Client(base.getHost(), base.getPort());
          while (running.get()) {
            try {
              Client.Response r = client.get(base.getPath() + "c" + id + "/" + n++);
              if (r.status() != 200) {
                failed.incrementAndGet();
                failures.add(r.status() + " " + r.head());
              }
            } catch (java.io.IOException e) {
              failed.incrementAndGet();
              resets.incrementAndGet();
              failures.add(e.toString());
            }
            total.incrementAndGet();
            next += interval;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
              try {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
              } catch (InterruptedException e) {
                break;
              }
            }
          }
          client.close();
          done.countDown();
        }, "load-" + t);
        th.setDaemon(true);
        th.start();
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      done.await();
    }
  }

  /** One keep-alive HTTP/1.1 connection, reopened when closed. */
  static final class Client {
    /** GETs sent again because their reused connection had closed (counted, and printed with the results). */
    static final AtomicLong RESENT = new AtomicLong();

    record Response(int status, String head) {}

    private final String host;
    private final int port;
    private java.net.Socket socket;
    private java.io.InputStream in;
    private boolean reused;

    Client(String host, int port) {
      this.host = host;
      this.port = port;
    }

    Response get(String path) throws java.io.IOException {
      byte[] request = ("GET " + path + " HTTP/1.1\r\nhost: " + host + ":" + port + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      if (socket != null && reused) {
        try {
          return exchange(request);
        } catch (StaleConnection e) {
          close(); // closed before any byte of the response: sent again on a new connection, as HttpClient does
          RESENT.incrementAndGet();
        }
      }
      try {
        return exchange(request);
      } catch (StaleConnection e) {
        throw new java.io.IOException("connection closed before the response", e);
      }
    }

    private Response exchange(byte[] request) throws java.io.IOException {
      if (socket == null) {
        socket = new java.net.Socket(host, port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(5000);
        in = new java.io.BufferedInputStream(socket.getInputStream(), 8192);
        reused = false;
      }
      try {
        socket.getOutputStream().write(request);
      } catch (java.io.IOException e) {
        throw reused ? new StaleConnection(e) : e;
      }
      String status = line(true);
      StringBuilder head = new StringBuilder(status);
      long length = -1;
      boolean close = false;
      boolean chunked = false;
      for (String h = line(false); !h.isEmpty(); h = line(false)) {
        head.append(" | ").append(h);
        String lower = h.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(lower.substring(15).trim());
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          close = true;
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        }
      }
      if (chunked) {
        for (long size = Long.parseLong(line(false).split(";")[0].trim(), 16); size > 0;
            size = Long.parseLong(line(false).split(";")[0].trim(), 16)) {
          skip(size);
          line(false);
        }
        while (!line(false).isEmpty()) {
          // trailers
        }
      } else if (length > 0) {
        skip(length);
      }
      if (close) {
        close();
      } else {
        reused = true;
      }
      return new Response(Integer.parseInt(status.split(" ")[1]), head.toString());
    }

    /** A CRLF-ended line; the response's first is stale-connection evidence when nothing of it came. */
    private String line(boolean first) throws java.io.IOException {
      StringBuilder sb = new StringBuilder();
      while (true) {
        int c;
        try {
          c = in.read();
        } catch (java.net.SocketException e) {
          if (first && sb.length() == 0 && reused) {
            throw new StaleConnection(e);
          }
          throw e;
        }
        if (c < 0) {
          if (first && sb.length() == 0 && reused) {
            throw new StaleConnection(new java.io.EOFException("closed"));
          }
          throw new java.io.EOFException("connection closed mid-response");
        }
        if (c == '\n') {
          int len = sb.length();
          return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
        }
        sb.append((char) c);
      }
    }

    private void skip(long n) throws java.io.IOException {
      while (n > 0) {
        long k = in.skip(n);
        if (k <= 0) {
          if (in.read() < 0) {
            throw new java.io.EOFException("connection closed mid-body");
          }
          k = 1;
        }
        n -= k;
      }
    }

    void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (java.io.IOException ignored) {
          // closing anyway
        }
      }
      socket = null;
      reused = false;
    }

    /** The reused connection was gone before the response began. */
    private static final class StaleConnection extends java.io.IOException {
      StaleConnection(Throwable cause) {
        super(cause);
      }
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }

  static void awaitTrue(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (check.ok()) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("timed out waiting for: " + what);
  }
}
