package io.bowline.core.config;

/** The node identity from the bootstrap and the command line. */
public record NodeInfo(String id, String cluster) {}
