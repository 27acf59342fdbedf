package io.bowline.core.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Access-log files as tests read them: the writer thread flushes on its own schedule. */
public final class LogFiles {
  private LogFiles() {}

  /** The file's lines once it has at least {@code n}; fails after 10 s naming what it has. */
  public static List<String> awaitLines(Path file, int n) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    List<String> lines = List.of();
    while (System.nanoTime() < deadline) {
      if (Files.exists(file)) {
        lines = Files.readAllLines(file);
        if (lines.size() >= n) {
          return lines;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError(file + ": expected " + n + " lines, have " + lines);
  }
}
