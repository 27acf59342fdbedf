package io.bowline.core.filter;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * Reading a header as the message holds it. A value a codec parsed is a view of the message's own header bytes, and
 * Netty's {@code HttpHeaders.get} makes a String copy of it on every call; code that only compares the value, or
 * copies its bytes out, takes it as it is.
 */
public final class HeaderValues {
  private HeaderValues() {}

  /** The first value of {@code name} (the first added, as Netty's get answers), or null. */
  public static @Nullable CharSequence first(HttpHeaders h, CharSequence name) {
    if (h instanceof ArrayHttpHeaders a) {
      return a.first(name);
    }
    return h instanceof DefaultHttpHeaders d ? d.unwrap().get(name) : h.get(name);
  }
}
