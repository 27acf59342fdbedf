package io.bowline.core.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.stats.Stats;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer thread and the event loops' blocks: every line arrives once and in its loop's order, whether its block
 * filled, its delay ran out, or the process closed the writer with lines still in a stopped loop's block.
 */
class AccessLogWriterTest {
  private static final LogFormat CODE = LogFormat.text("%RESPONSE_CODE%\n", false);

  private static AccessLogFacts facts(int code) {
    AccessLogFacts f = new AccessLogFacts();
    f.responseCode = code;
    return f;
  }

  @Test
  void blocksOfALoopArriveInOrderAndCloseSendsTheRest(@TempDir Path dir) throws Exception {
    Stats stats = new Stats();
    AccessLogWriter writer = new AccessLogWriter(stats, 10);
    AccessLogWriter.Destination file = writer.destination(dir.resolve("a.log").toString());
    DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    EventLoop loop = group.next();
    int n = 20_000; // ~7 blocks of 16 KiB, then a partial one
    loop.submit(() -> {
      for (int i = 0; i < n; i++) {
        writer.offer(file, CODE, facts(100_000 + i));
      }
    }).sync();
    awaitLines(dir.resolve("a.log"), n, 5_000); // full blocks at once, the last one after its delay
    // the loop stops with its last block unsent; closing the writer sends it
    loop.submit(() -> writer.offer(file, CODE, facts(999_999))).sync();
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    writer.close();
    List<String> lines = Files.readAllLines(dir.resolve("a.log"));
    assertEquals(n + 1, lines.size(), "every line once");
    assertEquals("999999", lines.get(n), "the stopped loop's last block, sent by close()");
    for (int i = 0; i < n; i++) {
      if (!lines.get(i).equals(Integer.toString(100_000 + i))) {
        throw new AssertionError("line " + i + " is " + lines.get(i) + ": out of order");
      }
    }
    assertEquals(n + 1, stats.counter("filesystem.write_completed").value());
    assertEquals(0, stats.counter("filesystem.write_dropped").value());
  }

  @Test
  void aLongLineKeepsItsPlaceAmongTheShortOnes(@TempDir Path dir) throws Exception {
    AccessLogWriter writer = new AccessLogWriter(new Stats(), 10);
    AccessLogWriter.Destination file = writer.destination(dir.resolve("c.log").toString());
    LogFormat path = LogFormat.text("%REQ(X-ID)%\n", false);
    DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    String longPath = "/" + "p".repeat(AccessLogWriter.BLOCK_BYTES / 2);
    try {
      group.next().submit(() -> {
        for (String p : new String[] {"/1", "/2", longPath, "/3"}) {
          AccessLogFacts f = new AccessLogFacts();
          io.netty.handler.codec.http.HttpHeaders h = new io.netty.handler.codec.http.DefaultHttpHeaders();
          h.add("x-id", p);
          f.requestHeaders = h;
          writer.offer(file, path, f);
        }
      }).sync();
      assertEquals(List.of("/1", "/2", longPath, "/3"), awaitLines(dir.resolve("c.log"), 4, 2_000));
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
      writer.close();
    }
  }

  @Test
  void aPartialBlockGoesAfterItsDelayAndOtherThreadsWriteLineByLine(@TempDir Path dir) throws Exception {
    AccessLogWriter writer = new AccessLogWriter(new Stats(), 10);
    AccessLogWriter.Destination file = writer.destination(dir.resolve("b.log").toString());
    DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    try {
      group.next().submit(() -> writer.offer(file, CODE, facts(201))).sync();
      writer.offer(file, CODE, facts(202)); // the test's own thread is no event loop
      List<String> lines = awaitLines(dir.resolve("b.log"), 2, 2_000);
      assertEquals(List.of("201", "202"), lines.stream().sorted().toList(), "both written without a close");
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
      writer.close();
    }
  }

  private static List<String> awaitLines(Path file, int atLeast, long withinMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMs);
    List<String> lines = List.of();
    while (System.nanoTime() < deadline) {
      lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
      if (lines.size() >= atLeast) {
        return lines;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("only " + lines.size() + " of " + atLeast + " lines after " + withinMs + " ms");
  }
}
