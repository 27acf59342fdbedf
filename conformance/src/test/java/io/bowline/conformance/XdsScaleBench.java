package io.bowline.conformance;

import static io.bowline.core.testing.XdsResources.edsCluster;
import static io.bowline.core.testing.XdsResources.endpoints;
import static io.bowline.core.testing.XdsResources.listener;

import io.bowline.core.testing.TestBackend;
import io.bowline.core.testing.XdsResources;
import io.bowline.core.testing.XdsTestServer;
import io.netty.util.ResourceLeakDetector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3's scale benchmark (not part of CI: its name matches neither *Test nor *IT). One push of N clusters, N
 * endpoint sets and a route configuration of N virtual hosts to {@code bin/bowline}, under a light load on an
 * existing route: how long until it is live, the heap after a full GC, and the slowest request while it applied;
 * then the same size again on the now warm JVM (clusters re-sent, every route and load assignment changed), as a
 * control plane's later pushes are.
 *
 * <p>Run: {@code mvn -B -pl conformance test -Dtest=XdsScaleBench -Dscale.n=10000} (after {@code mvn install}).
 * {@code BOWLINE_JVM_OPTS} reaches the launched JVM as usual. The load on the existing route runs in this JVM (plain
 * keep-alive sockets, {@link PlainGet}, and no leak detection, so that it takes little of the 2 cores from bowline), which
 * also builds and serves the snapshot, so its slowest request counts this JVM's own pauses too; with
 * {@code -Dscale.fixedrate=<../shared/bench's fixedrate>} a separate process also times requests on that route from
 * their scheduled slots (no coordinated omission) through each push, and {@code -Dscale.backendPort=18080} sends the
 * route to the shared bench's nginx backend instead of one in this JVM.
 *
 * <p>Before the first push, {@code -Dscale.warmRequests} (20,000) requests on the existing route let bowline's JIT
 * compile the request path, one in ten of them answered by a local reply (a direct response): the probes that wait
 * for the new hosts get local replies (503, endpoints not yet there) while the push applies, and the first local reply
 * an event loop ever writes sends its compiled write path back to the interpreter (a new message type where C2 had
 * seen one), which a proxy that has served traffic has long paid. {@code -Dscale.histogramLines} (25) lines of the
 * class histogram are printed. Each snapshot is packed before it is served and this JVM left to settle (its JIT
 * compiles the snapshot build for seconds after), so that on a 2-core machine the push's time is bowline's and not
 * this JVM's; this JVM's CPU over the first push is printed beside bowline's, and {@code -Dscale.profileSelf=true}
 * points the profiler at it. With the separate client, the admin pages an operator reads ({@code /config_dump},
 * {@code /clusters}, {@code /stats} in its forms) are then fetched one at a time under its load, and what the traffic
 * saw meanwhile is printed ({@code -Dscale.adminReads=false} leaves them out).
 */
class XdsScaleBench {
  @Test
  void oneLargePush(@TempDir Path dir) throws Exception {
    int n = Integer.getInteger("scale.n", 10_000);
    // the surefire argLine's PARANOID leak detection takes a stack trace per buffer operation in this JVM's backends:
    // on 2 shared cores, CPU taken from the proxy being measured (bowline itself runs without it here)
    ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    String fixedrate = System.getProperty("scale.fixedrate");
    TestBackend backend = TestBackend.start();
    int existing = Integer.getInteger("scale.backendPort", backend.port());
    TestBackend fresh = TestBackend.start(); // every new cluster's endpoint: a request reaching it proves the push live
    TestBackend second = TestBackend.start(); // where the second push moves them
    try (XdsTestServer xds = XdsTestServer.tcp(); SelfGcPauses selfGc = new SelfGcPauses()) {
      xds.set("0", List.of(edsCluster("svc")), List.of(endpoints("svc", existing)), List.of(listener("ingress")),
          List.of(XdsResources.header() + "  - match: {prefix: \"/local-reply\"}\n    direct_response: {status: 503}\n"
              + XdsResources.route("/", "{cluster: svc}")));
      Path config = dir.resolve("bootstrap.yaml");
      // Envoy's dispatcher stats: how long the worker loops' iterations ran and how late they woke, bowline's own view
      // of a stall (the clients' views include their own scheduling)
      Files.writeString(config, "enable_dispatcher_stats: true\n" + xds.bootstrap("GRPC")
          + (Boolean.getBoolean("scale.istioStats") ? ISTIO_STATS_MATCHER : ""));
      try (BowlineProcess bowline = BowlineProcess.startWithJvmOpts(dir, "", "-c", config.toString()).awaitReady()) {
        int port = bowline.listenerPort("http");
        PlainGet client = new PlainGet(port, 5000); // the probes, from this thread
        int warm = Integer.getInteger("scale.warmRequests", 20_000);
        for (int i = 0; i < warm; i++) {
          // the request path compiled before the push, as a proxy that has served traffic has it: its JIT work is
          // not the push's, and at the light load below it would still be compiling through the push
          client.get("/existing", "127.0.0.1:" + port);
          if (i % 10 == 0) {
            // and its local replies: the probes below get some (503, no endpoints yet) before the new hosts are live
            client.get("/local-reply", "127.0.0.1:" + port);
          }
        }
        String before = heapAfterGc(bowline.pid());
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong maxNanos = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong requests = new AtomicLong();
        PlainGet loadClient = new PlainGet(port, 5000);
        Thread load = new Thread(() -> {
          while (running.get()) {
            long t = System.nanoTime();
            try {
              if (loadClient.get("/existing", "127.0.0.1:" + port) != 200) {
                failed.incrementAndGet();
              }
            } catch (Exception e) {
              failed.incrementAndGet();
            }
            requests.incrementAndGet();
            maxNanos.accumulateAndGet(System.nanoTime() - t, Math::max);
            try {
              Thread.sleep(5);
            } catch (InterruptedException e) {
              return;
            }
          }
        });
        load.start();
        Thread.sleep(1000);
        maxNanos.set(0);

        List<String> clusters = new ArrayList<>(List.of(edsCluster("svc")));
        List<String> eps = new ArrayList<>(List.of(endpoints("svc", existing)));
        StringBuilder rc = new StringBuilder("name: local\nvirtual_hosts:\n");
        for (int i = 0; i < n; i++) {
          clusters.add(edsCluster("svc-" + i));
          eps.add(endpoints("svc-" + i, fresh.port()));
          rc.append("- name: vh-").append(i).append("\n  domains: [\"svc-").append(i)
              .append(".example\"]\n  routes: [{match: {prefix: \"/\"}, route: {cluster: svc-").append(i)
              .append("}}]\n");
        }
        rc.append("- name: all\n  domains: [\"*\"]\n  routes: [{match: {prefix: \"/\"}, route: {cluster: svc}}]\n");
        long t0 = System.nanoTime();
        var snapshot = XdsTestServer.snapshot("1", clusters, eps, List.of(listener("ingress")),
            List.of(rc.toString()), List.of());
        xds.prepare(snapshot);
        long built = System.nanoTime();
        // read before the settling: even filtered, a scrape walks every stat, and its garbage is not the push's
        LoopStalls loopsBefore = LoopStalls.read(bowline);
        String settled = settle();
        // async-profiler's agent profiles one push alone: the first (cold JVM) or, with -Dscale.profilePush=2, the second
        String profiler = System.getProperty("scale.profiler");
        boolean profileSecond = "2".equals(System.getProperty("scale.profilePush"));
        if (profiler != null && !profileSecond) {
          startProfiler(profiled(bowline), profiler);
        }
        Process probe = fixedrate == null ? null : startFixedrate(fixedrate, port, 10);
        long cpuBefore = cpuMillis(bowline.pid());
        long selfBefore = cpuMillis(ProcessHandle.current().pid());
        selfGc.takeMax();
        long pushed = System.nanoTime(); // from here the server answers bowline's open watches
        xds.serve(snapshot);
        long deadline = System.nanoTime() + 120_000_000_000L;
        String lastHost = "svc-" + (n - 1) + ".example";
        while (!reachesNewHost(client, lastHost, fresh)) {
          if (System.nanoTime() > deadline) {
            String err = bowline.stderr();
            throw new AssertionError("not live after 120 s; stderr tail: "
                + err.substring(Math.max(0, err.length() - 3000)));
          }
          Thread.sleep(20);
        }
        long live = System.nanoTime();
        long cpu = cpuMillis(bowline.pid()) - cpuBefore;
        long self = cpuMillis(ProcessHandle.current().pid()) - selfBefore;
        if (profiler != null && !profileSecond) {
          stopProfiler(profiled(bowline), profiler);
        }
        int last = client.get("/new", lastHost);
        String probeFirst = fixedrateResult(probe);
        long slowestFirst = maxNanos.getAndSet(0);
        long selfPauseFirst = selfGc.takeMax();
        LoopStalls loopsFirst = LoopStalls.read(bowline).minus(loopsBefore);
        long requestsFirst = requests.get();
        long failedFirst = failed.get();

        // the same size again on a warm JVM, as a control plane re-sends its state of the world: the clusters
        // unchanged under a new version, every route changed (a timeout), every load assignment moved elsewhere
        List<String> moved = new ArrayList<>(List.of(endpoints("svc", existing)));
        for (int i = 0; i < n; i++) {
          moved.add(endpoints("svc-" + i, second.port()));
        }
        var snapshot2 = XdsTestServer.snapshot("2", clusters, moved, List.of(listener("ingress")),
            List.of(rc.toString().replace("route: {cluster: svc-", "route: {timeout: 20s, cluster: svc-")), List.of());
        xds.prepare(snapshot2);
        LoopStalls loopsBefore2 = LoopStalls.read(bowline);
        String settled2 = settle();
        if (profiler != null && profileSecond) {
          startProfiler(profiled(bowline), profiler);
        }
        Process probe2 = fixedrate == null ? null : startFixedrate(fixedrate, port, 4);
        long cpuBefore2 = cpuMillis(bowline.pid());
        selfGc.takeMax();
        long pushed2 = System.nanoTime();
        xds.serve(snapshot2);
        while (!reachesNewHost(client, lastHost, second)) {
          if (System.nanoTime() > pushed2 + 120_000_000_000L) {
            throw new AssertionError("second push not live after 120 s");
          }
          Thread.sleep(20);
        }
        long live2 = System.nanoTime();
        long cpu2 = cpuMillis(bowline.pid()) - cpuBefore2;
        if (profiler != null && profileSecond) {
          stopProfiler(profiled(bowline), profiler);
        }
        String probeSecond = fixedrateResult(probe2);
        long selfPauseSecond = selfGc.takeMax();
        LoopStalls loopsSecond = LoopStalls.read(bowline).minus(loopsBefore2);
        List<String> adminReads = fixedrate != null && !"false".equals(System.getProperty("scale.adminReads"))
            ? adminReads(bowline, fixedrate, port) : List.of();
        Thread.sleep(500);
        running.set(false);
        load.join();
        loadClient.close();
        client.close();
        String after = heapAfterGc(bowline.pid());
        String histogram = run("jcmd", String.valueOf(bowline.pid()), "GC.class_histogram");
        System.out.println(String.join("\n", java.util.Arrays.asList(histogram.split("\n")).subList(0,
            Math.min(Integer.getInteger("scale.histogramLines", 25), histogram.split("\n").length))));
        for (String line : bowline.stderr().split("\n")) {
          if (line.contains("xDS: applied")) {
            System.out.println(line); // how long each type took to compile and apply inside bowline
          }
        }
        for (XdsTestServer.Event e : xds.events) {
          if (e.nanos() >= pushed) { // where the time went: the server's answers and bowline's ACKs, from the push
            System.out.printf("  +%5d ms %-8s %-22s version %s, %d resources%n", (e.nanos() - pushed) / 1_000_000,
                e.what(), e.type(), e.version(), e.resources());
          }
        }
        System.out.printf("xDS scale: %d clusters + %d endpoint sets + %d virtual hosts: snapshot built and packed in %d ms (%s), "
            + "live %d ms after the push (bowline used %d ms of CPU, JIT and GC included; this JVM, serving the push "
            + "and the load, %d ms); request to the last new host: %d; during the push %d requests on the "
            + "existing route, %d failed, slowest %.1f ms (this JVM's longest collector pause meanwhile: %d ms); "
            + "heap after GC before: %s, after: %s%n",
            n, n, n, (built - t0) / 1_000_000, settled, (live - pushed) / 1_000_000, cpu, self, last, requestsFirst,
            failedFirst, slowestFirst / 1e6, selfPauseFirst, before, after);
        System.out.printf("xDS scale, second push (warm JVM; clusters re-sent, every route and load assignment changed): "
            + "(%s) live %d ms after the push (bowline used %d ms of CPU); during it %d requests on the existing route, "
            + "%d failed, slowest %.1f ms (this JVM's longest collector pause meanwhile: %d ms)%n", settled2,
            (live2 - pushed2) / 1_000_000, cpu2, requests.get() - requestsFirst, failed.get() - failedFirst,
            maxNanos.get() / 1e6, selfPauseSecond);
        System.out.println("bowline's worker loops during the first push: " + loopsFirst);
        System.out.println("bowline's worker loops during the second push: " + loopsSecond);
        if (fixedrate != null) {
          System.out.println("fixedrate on the existing route from the first push: " + probeFirst);
          System.out.println("fixedrate on the existing route from the second push: " + probeSecond);
        }
        adminReads.forEach(System.out::println);
      }
    } finally {
      backend.close();
      fresh.close();
      second.close();
      ResourceLeakDetector.setLevel(leakLevel);
    }
  }

  /**
   * Istio's default {@code stats_matcher} (its rendered bootstrap, ../shared/fixtures/istio/bootstrap/default_golden.json):
   * with {@code -Dscale.istioStats=true} the push is measured as a sidecar of Istio's has it, where all but a few of
   * each cluster's stats are rejected.
   */
  private static final String ISTIO_STATS_MATCHER = """
      stats_config:
        stats_matcher:
          inclusion_list:
            patterns:
            - prefix: "reporter="
            - prefix: cluster_manager
            - prefix: listener_manager
            - prefix: server
            - prefix: cluster.xds-grpc
            - prefix: wasm
            - suffix: rbac.allowed
            - suffix: rbac.denied
            - suffix: shadow_allowed
            - suffix: shadow_denied
            - safe_regex: {regex: 'vhost\\..*\\.route\\..*'}
            - prefix: component
            - prefix: istio
      """;

  /**
   * Waits (at most 30 s) until this JVM uses less than 40 % of a core over half a second, and says how long that
   * took. Building a snapshot of this size leaves this JVM's JIT compiling for seconds after; on 2 cores that would
   * be counted as bowline's push time, though a real control plane runs on another machine.
   */
  static String settle() throws Exception {
    long pid = ProcessHandle.current().pid();
    long start = System.nanoTime();
    long used;
    do {
      long before = cpuMillis(pid);
      Thread.sleep(500);
      used = cpuMillis(pid) - before;
    } while (used > 200 && System.nanoTime() - start < 30_000_000_000L);
    return String.format("this JVM settled in %d ms, at %d %% of a core", (System.nanoTime() - start) / 1_000_000,
        used / 5);
  }

  /** One request to the last new virtual host: true once it reached the new clusters' backend. */
  static boolean reachesNewHost(PlainGet client, String host, TestBackend fresh) {
    try {
      client.get("/probe", host);
    } catch (Exception e) {
      return false;
    }
    return fresh.requestsTo("/probe") > 0;
  }

  /** User and system CPU time the process has used, from /proc (Linux). */
  static long cpuMillis(long pid) throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10; // utime, stime in clock ticks of 10 ms
  }

  /** Runs a full GC in the target JVM and returns its heap use line. */
  static String heapAfterGc(long pid) throws Exception {
    run("jcmd", String.valueOf(pid), "GC.run");
    String info = run("jcmd", String.valueOf(pid), "GC.heap_info");
    StringBuilder used = new StringBuilder();
    for (String line : info.split("\n")) {
      if (line.contains("total") && line.contains("used")) {
        String t = line.trim();
        used.append(t, 0, t.indexOf('[') > 0 ? t.indexOf('[') : t.length()).append("; ");
      }
    }
    return used.toString();
  }

  /** What an operator reads off a mesh-sized proxy (istioctl proxy-config reads /config_dump; people curl the rest). */
  private static final String[] ADMIN_READS = {"/config_dump", "/config_dump?include_eds", "/clusters",
      "/clusters?format=json", "/listeners", "/stats", "/stats?format=json", "/stats/prometheus"};

  /**
   * Each of {@link #ADMIN_READS} once, under the separate client's 200 req/s on the existing route: how long the read
   * took, how large it was, and what the traffic saw meanwhile — a collector pause the read causes stalls every loop.
   */
  private static List<String> adminReads(BowlineProcess bowline, String fixedrate, int port) throws Exception {
    List<String> out = new ArrayList<>();
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (String path : ADMIN_READS) {
      settle();
      LoopStalls before = LoopStalls.read(bowline);
      Process probe = startFixedrate(fixedrate, port, 3);
      Thread.sleep(1000);
      long t = System.nanoTime();
      var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://"
          + bowline.adminAddress() + path)).build(), java.net.http.HttpResponse.BodyHandlers.ofInputStream());
      long bytes;
      try (java.io.InputStream body = r.body()) {
        bytes = body.transferTo(java.io.OutputStream.nullOutputStream());
      }
      long took = System.nanoTime() - t;
      String traffic = fixedrateResult(probe);
      out.add(String.format("admin %s: %d, %.1f MB in %d ms; traffic meanwhile: %s; loops: %s", path, r.statusCode(),
          bytes / 1e6, took / 1_000_000, traffic, LoopStalls.read(bowline).minus(before)));
    }
    return out;
  }

  /** A separate process timing 200 requests a second on the existing route for {@code seconds}, from now. */
  private static Process startFixedrate(String fixedrate, int port, int seconds) throws java.io.IOException {
    return new ProcessBuilder(fixedrate, "-p", String.valueOf(port), "-u", "/existing", "-r", "200", "-c", "4", "-d",
        String.valueOf(seconds), "-w", "0").redirectErrorStream(true).start();
  }

  /** Its RESULT line's counts and latencies, once it has finished. */
  private static String fixedrateResult(Process p) throws Exception {
    if (p == null) {
      return "";
    }
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    for (String line : out.split("\n")) {
      if (line.startsWith("RESULT")) {
        return line.replaceAll(" (rate|svc_p50_us|svc_p99_us|svc_max_us|p90_us)=[0-9.]+", "");
      }
    }
    return "no result: " + out;
  }

  /** The process profiled: bowline, or with {@code -Dscale.profileSelf=true} this JVM (the xDS server and the load). */
  private static long profiled(BowlineProcess bowline) {
    return Boolean.getBoolean("scale.profileSelf") ? ProcessHandle.current().pid() : bowline.pid();
  }

  private static void startProfiler(long pid, String agent) throws Exception {
    run("jcmd", String.valueOf(pid), "JVMTI.agent_load", agent,
        "\"start,event=" + System.getProperty("scale.event", "cpu") + ",interval=1ms,threads\"");
  }

  private static void stopProfiler(long pid, String agent) throws Exception {
    run("jcmd", String.valueOf(pid), "JVMTI.agent_load", agent,
        "\"stop,collapsed,file=" + System.getProperty("scale.profile", "push.collapsed") + "\"");
  }

  static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
