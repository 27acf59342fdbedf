package io.bowline.core.compile;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.type.v3.FractionalPercent;

/** Envoy's {@code FractionalPercent} as parts per million, so one random draw in [0, 10^6) decides. */
public final class Fractions {
  private Fractions() {}

  public static int perMillion(FractionalPercent p, String path) throws ConfigException {
    long scale = switch (p.getDenominator()) {
      case HUNDRED -> 10_000;
      case TEN_THOUSAND -> 100;
      case MILLION -> 1;
      default -> throw new ConfigException(path + ".denominator", "unknown denominator");
    };
    return (int) Math.min(1_000_000, p.getNumerator() * scale);
  }
}
