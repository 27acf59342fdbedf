package io.bowline.core.accesslog;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The header values a format reads, taken on the event loop when an entry is queued: the writer thread then formats
 * from these strings alone, so a queued entry keeps no request or response header map alive (and no map is read by
 * two threads).
 */
final class HeaderCapture {
  private final List<Function<AccessLogFacts, @Nullable String>> lookups = new ArrayList<>();

  /** Registers a lookup; the operator reads its value back at this index. */
  int add(Function<AccessLogFacts, @Nullable String> lookup) {
    lookups.add(lookup);
    return lookups.size() - 1;
  }

  boolean isEmpty() {
    return lookups.isEmpty();
  }

  String[] capture(AccessLogFacts f) {
    String[] values = new String[lookups.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = lookups.get(i).apply(f);
    }
    return values;
  }
}
