package io.bowline.core.accesslog;

import io.netty.util.AsciiString;

/**
 * A request header name that a log operator, a reporting filter or the tracer reads at every stream's end, with
 * where the last capture it met keeps it: finding a name in a {@link LoggedRequestHeaders} compares it with each
 * captured name, and a connection manager's capture is the same for all its streams, so that search is done once
 * per capture instead of once per line. Shared by every event loop: the remembered place is one immutable object,
 * so a thread sees either the old pair or the new one, never a mix.
 */
public final class RequestHeaderName {
  private final AsciiString name;
  private Place last = new Place(LoggedRequestHeaders.NONE, -1);

  /** @param name lower case, as a capture holds its names */
  public RequestHeaderName(AsciiString name) {
    this.name = name;
  }

  public AsciiString name() {
    return name;
  }

  /** Where {@code capture} keeps this name, or -1. */
  int indexIn(LoggedRequestHeaders capture) {
    Place p = last;
    if (p.capture != capture) {
      p = new Place(capture, capture.indexOf(name));
      last = p;
    }
    return p.index;
  }

  private record Place(LoggedRequestHeaders capture, int index) {}
}
