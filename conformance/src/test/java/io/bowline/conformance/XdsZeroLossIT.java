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
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

  /** A paced HTTP/1.1 keep-alive load from several clients; every non-200 or I/O error is a failure. */
  static final class Load {
    final URI base;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
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
          while (running.get()) {
            try {
              HttpResponse<String> r = client.send(HttpRequest.newBuilder(base.resolve("c" + id + "/" + n++))
                  .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
              if (r.statusCode() != 200) {
                failed.incrementAndGet();
                failures.add(r.statusCode() + " " + r.headers().firstValue("x-envoy-response-flags").orElse("")
                    + " " + r.body());
              }
            } catch (java.io.IOException e) {
              failed.incrementAndGet();
              resets.incrementAndGet();
              failures.add(e.toString());
            } catch (InterruptedException e) {
              return;
            }
            total.incrementAndGet();
            next += interval;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
              try {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
              } catch (InterruptedException e) {
                return;
              }
            }
          }
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
