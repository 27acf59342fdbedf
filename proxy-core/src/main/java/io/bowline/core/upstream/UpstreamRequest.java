package io.bowline.core.upstream;

import io.netty.handler.codec.http.HttpObject;

/** The writable end of an upstream exchange, confined to the stream's event loop. */
public interface UpstreamRequest {
  /** Writes without flushing; {@code msg} is owned by the callee from here on. */
  void write(HttpObject msg);

  void flush();

  boolean isWritable();

  /** Pause or resume reading the response (downstream backpressure). */
  void setReadable(boolean readable);

  /** The exchange is over: reuse the connection if it is clean, close it otherwise. */
  void release();

  /** Abort: close the H1 connection, or RST the H2 stream. */
  void reset();

  UpstreamHost host();

  boolean isHttp2();

  /** The local address of the upstream connection (for %UPSTREAM_LOCAL_ADDRESS%), or null before it connected. */
  java.net.@org.jspecify.annotations.Nullable InetSocketAddress localAddress();

  /** {@link #localAddress()} as Envoy prints it, or null; kept by the connection for all its requests. */
  @org.jspecify.annotations.Nullable String localAddressText();

  /** The upstream connection's TLS session (its certificates name both ends), or null: plaintext, or not connected. */
  javax.net.ssl.@org.jspecify.annotations.Nullable SSLSession tlsSession();
}
