package io.bowline.core.accesslog;

import org.jspecify.annotations.Nullable;

/** A command operator whose value is a number: text lines take its digits without boxing it. */
@FunctionalInterface
interface NumberOperator extends Operator {
  /** The value of an operator that has none ("-" in text, null in typed JSON). */
  long NONE = Long.MIN_VALUE;

  /** The value, or {@link #NONE}. */
  long number(AccessLogFacts f);

  @Override
  default @Nullable Object value(AccessLogFacts f) {
    long n = number(f);
    return n == NONE ? null : (Object) n;
  }
}
