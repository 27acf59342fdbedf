package io.bowline.core.filter;

/** Creates the per-stream instance of a configured filter. Cheap, and called on the stream's event loop. */
@FunctionalInterface
public interface HttpFilterProvider {
  HttpFilter create(HttpFilterCallbacks callbacks);
}
