package io.bowline.core.accesslog;

import org.jspecify.annotations.Nullable;

/** One command operator of Envoy's format language ({@code %RESPONSE_CODE%}, {@code %REQ(X?Y):Z%}, ...), compiled. */
@FunctionalInterface
interface Operator {
  /** The value: a {@link String}, a {@link Long} for numbers, or null when there is none ("-" in text). */
  @Nullable Object value(AccessLogFacts f);
}
