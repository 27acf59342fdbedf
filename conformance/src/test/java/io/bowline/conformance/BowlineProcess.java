package io.bowline.conformance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code bin/bowline} started as a process; seen only through its outside behaviour and its admin API. */
final class BowlineProcess implements AutoCloseable {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private final Process process;
  private final Path stderr;
  private final Path adminFile;
  private String admin;

  private BowlineProcess(Process process, Path stderr, Path adminFile) {
    this.process = process;
    this.stderr = stderr;
    this.adminFile = adminFile;
  }

  static BowlineProcess start(Path dir, String... args) throws IOException {
    return startWithJvmOpts(dir, "-Dio.netty.leakDetection.level=paranoid", args);
  }

  /** With {@code jvmOpts} as BOWLINE_JVM_OPTS, followed by the caller's own BOWLINE_JVM_OPTS if set. */
  static BowlineProcess startWithJvmOpts(Path dir, String jvmOpts, String... args) throws IOException {
    Path err = dir.resolve("bowline.stderr");
    Path adminFile = dir.resolve("admin.address");
    List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("bin/bowline").toString(), "--concurrency", "2",
        "--drain-time-s", "5", "--admin-address-path", adminFile.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile())
        .redirectOutput(dir.resolve("bowline.stdout").toFile());
    String inherited = System.getenv("BOWLINE_JVM_OPTS");
    pb.environment().put("BOWLINE_JVM_OPTS", jvmOpts + (inherited == null ? "" : " " + inherited));
    return new BowlineProcess(pb.start(), err, adminFile);
  }

  /** Waits until /ready answers LIVE; fails with the process's stderr if it exits or takes too long. */
  BowlineProcess awaitReady() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("bowline exited with " + process.exitValue() + ": " + stderr());
      }
      if (Files.exists(adminFile)) {
        admin = Files.readString(adminFile).trim();
        try {
          if (get("/ready").statusCode() == 200) {
            return this;
          }
        } catch (IOException e) {
          // not yet
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("bowline not ready in 60 s: " + stderr());
  }

  /** Waits for the process to exit and returns its exit code. */
  int awaitExit(long seconds) throws Exception {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("bowline did not exit within " + seconds + " s: " + stderr());
    }
    return process.exitValue();
  }

  String stderr() throws IOException {
    return Files.exists(stderr) ? Files.readString(stderr) : "";
  }

  HttpResponse<String> get(String path) throws Exception {
    return request("GET", path);
  }

  HttpResponse<String> request(String method, String path) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + admin + path))
        .timeout(Duration.ofSeconds(5));
    b = method.equals("POST") ? b.POST(HttpRequest.BodyPublishers.noBody()) : b.GET();
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        .send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The admin server's host:port (after {@link #awaitReady}). */
  String adminAddress() {
    return admin;
  }

  /** The port of a listener, from /listeners. */
  int listenerPort(String name) throws Exception {
    for (String line : get("/listeners").body().split("\n")) {
      if (line.startsWith(name + "::")) {
        return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1));
      }
    }
    throw new AssertionError("no listener " + name);
  }

  long stat(String name) throws Exception {
    for (String line : get("/stats").body().split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return -1;
  }

  /** SIGTERM, as a container runtime or Ctrl-C sends it. */
  void terminate() {
    process.destroy();
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
