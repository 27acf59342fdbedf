package io.bowline.core.accesslog;

import org.jspecify.annotations.Nullable;

/**
 * One configured access log: which entries it takes (its filter, evaluated on the event loop), how they are
 * formatted, and where they go.
 */
public record AccessLogger(@Nullable LogFilter filter, LogFormat format, AccessLogWriter.Destination destination) {
  /** Queues the entry if the filter lets it through. */
  public void log(AccessLogFacts facts) {
    if (filter == null || filter.test(facts)) {
      destination.writer().offer(destination, format, facts);
    }
  }
}
