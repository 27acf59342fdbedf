package io.bowline.core.http;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** The Date header value, formatted at most once per second. */
final class HttpDate {
  private static volatile long cachedSecond;
  private static volatile String cached = "";

  private HttpDate() {}

  static String now() {
    long sec = System.currentTimeMillis() / 1000;
    if (sec != cachedSecond) {
      cached = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
      cachedSecond = sec;
    }
    return cached;
  }
}
