package io.bowline.core.filter;

/** Creates the per-stream instance of a configured filter. Cheap, and called on the stream's event loop. */
@FunctionalInterface
public interface HttpFilterProvider {
  HttpFilter create(HttpFilterCallbacks callbacks);

  /** Whether its filters want {@link HttpFilter#onLog} when their stream ends (it costs a facts record each). */
  default boolean logs() {
    return false;
  }
}
