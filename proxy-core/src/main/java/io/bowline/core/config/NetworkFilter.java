package io.bowline.core.config;

/** The terminal network filter of a filter chain. */
public sealed interface NetworkFilter permits HcmConfig, TcpProxyConfig {
  /** Where its client connections' bytes are counted ({@code http.<prefix>.} or {@code tcp.<prefix>.downstream_cx_*}). */
  io.bowline.core.transport.ConnectionBytes connectionBytes();
}
