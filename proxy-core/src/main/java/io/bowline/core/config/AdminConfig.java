package io.bowline.core.config;

import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/** Where the admin server listens; null address means no admin server. */
public record AdminConfig(@Nullable InetSocketAddress address) {}
