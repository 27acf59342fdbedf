package io.bowline.core.compile;

import io.bowline.core.accesslog.AccessLogWriter;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.stats.Stats;
import java.util.HashMap;
import java.util.Map;

/** What compiling a configuration may use: the stats store, the filter registry, and shared access-log writers. */
public final class CompileContext {
  private final Stats stats;
  private final FilterRegistry filters;
  private final long fileFlushIntervalMs;
  private final long drainTimeoutMs;
  private final Map<String, AccessLogWriter> writers = new HashMap<>();

  public CompileContext(Stats stats, FilterRegistry filters, long fileFlushIntervalMs, long drainTimeoutMs) {
    this.stats = stats;
    this.filters = filters;
    this.fileFlushIntervalMs = fileFlushIntervalMs;
    this.drainTimeoutMs = drainTimeoutMs;
  }

  public Stats stats() {
    return stats;
  }

  public FilterRegistry filters() {
    return filters;
  }

  public long drainTimeoutMs() {
    return drainTimeoutMs;
  }

  /** One writer per destination, shared by every HCM that logs there. */
  synchronized AccessLogWriter writer(String destination) throws java.io.IOException {
    AccessLogWriter w = writers.get(destination);
    if (w == null) {
      w = switch (destination) {
        case "/dev/stdout" -> AccessLogWriter.stdout(fileFlushIntervalMs);
        case "/dev/stderr" -> AccessLogWriter.stderr(fileFlushIntervalMs);
        default -> AccessLogWriter.file(destination, fileFlushIntervalMs);
      };
      writers.put(destination, w);
    }
    return w;
  }

  public synchronized void closeWriters() {
    writers.values().forEach(AccessLogWriter::close);
    writers.clear();
  }
}
