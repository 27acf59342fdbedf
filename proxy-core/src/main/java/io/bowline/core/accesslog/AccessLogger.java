package io.bowline.core.accesslog;

import org.jspecify.annotations.Nullable;

/**
 * One configured access log: which entries it takes (its filter, evaluated on the event loop), how they are
 * formatted, and where they go.
 */
public record AccessLogger(@Nullable LogFilter filter, LogFormat format, AccessLogWriter.Destination destination) {
  /** Queues the entry if the filter lets it through. */
  public void log(AccessLogFacts facts) {
    logAll(java.util.List.of(this), facts);
  }

  /**
   * Offers a finished stream or connection to each log, on its event loop: filters see the whole facts, and each
   * line is formatted there too, so only its bytes cross to the writer thread.
   */
  public static void logAll(java.util.List<AccessLogger> logs, AccessLogFacts facts) {
    for (int i = 0; i < logs.size(); i++) {
      AccessLogger l = logs.get(i);
      if (l.filter() != null && !l.filter().test(facts)) {
        continue;
      }
      l.destination().writer().offer(l.destination(), l.format(), facts);
    }
  }
}
