package io.bowline.core.http;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;

/** The downstream side of a stream: an HTTP/1.1 connection, or one HTTP/2 stream. */
public interface DownstreamSink {
  /** Writes without flushing; {@code msg} is owned by the callee. */
  void write(HttpObject msg);

  void flush();

  boolean isWritable();

  /** Pause or resume reading the request (upstream backpressure). */
  void setReadable(boolean readable);

  /** The response ended. {@code requestComplete} false means the request body was not fully read. */
  void streamComplete(boolean requestComplete);

  /**
   * The response about to be written refuses a malformed request: an HTTP/1.1 connection closes after it (what the
   * client sends next is not trusted to be framed as it thinks); an HTTP/2 stream ends alone.
   */
  default void closeAfterResponse() {}

  /** Abort: close the H1 connection, or RST the H2 stream. */
  void reset();

  /** After a 101 from upstream: relay raw bytes between this connection and {@code upstream}. */
  void switchToTunnel(Channel upstream);

  boolean isHttp2();

  /**
   * Whether the stream is being read now and will be told so when the read ends
   * ({@link HttpStream#onDownstreamReadComplete}, which flushes the upstream): what it writes upstream meanwhile is
   * sent then, once, with the rest of what the read brought, rather than each part on its own.
   */
  boolean inReadBurst();

  boolean isTls();

  EventLoop eventLoop();
}
