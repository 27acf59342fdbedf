package io.bowline.xds.ads;

import com.google.protobuf.Any;
import io.bowline.xds.ConfigException;
import java.util.Map;

/**
 * What the engine does with resources from the ADS stream. Every call comes on the client's one control thread, in
 * the order the responses arrived; the engine may block there (compiling, binding) but never on an event loop.
 */
public interface ResourceHandler {
  /**
   * The complete current set of one type after a response was merged ({@code resources} by name). Throwing
   * rejects the response: the client NACKs it with the exception's message, and the previous set stays in force.
   */
  void onResources(String typeUrl, Map<String, Any> resources, String version) throws ConfigException;

  /** The stream to the management server came up or went down. */
  default void onConnectionState(boolean connected) {}

  /** An update was accepted (ACK sent) or rejected (NACK sent). */
  default void onUpdateResult(String typeUrl, boolean accepted, String detail) {}
}
