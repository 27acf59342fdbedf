package io.bowline.core.config;

/** The terminal network filter of a filter chain. */
public sealed interface NetworkFilter permits HcmConfig, TcpProxyConfig {}
