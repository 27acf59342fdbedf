package io.bowline.core.accesslog;

/** An access-log filter ({@code config.accesslog.v3.AccessLogFilter}), compiled; runs on the event loop. */
@FunctionalInterface
public interface LogFilter {
  boolean test(AccessLogFacts f);
}
