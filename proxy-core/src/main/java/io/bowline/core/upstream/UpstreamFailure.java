package io.bowline.core.upstream;

/** Why no upstream connection could be had. */
public enum UpstreamFailure { CONNECT_FAILURE, CONNECT_TIMEOUT, OVERFLOW, NO_HEALTHY_HOST, TLS_FAILURE }
