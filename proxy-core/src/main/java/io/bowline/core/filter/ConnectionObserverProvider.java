package io.bowline.core.filter;

/** A configured connection-watching network filter; {@link #create} runs once per connection, on its event loop. */
public interface ConnectionObserverProvider {
  ConnectionObserver create();

  /** How often {@link ConnectionObserver#progress} is called; 0 for never. */
  default long reportingIntervalMs() {
    return 0;
  }
}
