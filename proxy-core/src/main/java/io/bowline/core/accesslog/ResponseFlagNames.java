package io.bowline.core.accesslog;

import java.util.Map;

/** Envoy's response flags: the short form bowline records ("UH,URX") and the long form of RESPONSE_FLAGS_LONG. */
public final class ResponseFlagNames {
  private ResponseFlagNames() {}

  private static final Map<String, String> LONG = Map.ofEntries(
      Map.entry("DC", "DownstreamConnectionTermination"), Map.entry("DF", "DnsResolutionFailed"),
      Map.entry("DI", "DelayInjected"), Map.entry("DO", "DropOverload"),
      Map.entry("DPE", "DownstreamProtocolError"), Map.entry("DT", "DurationTimeout"),
      Map.entry("FI", "FaultInjected"), Map.entry("IH", "InvalidEnvoyRequestHeaders"),
      Map.entry("LH", "FailedLocalHealthCheck"), Map.entry("LR", "LocalReset"),
      Map.entry("NC", "NoClusterFound"), Map.entry("NFCF", "NoFilterConfigFound"),
      Map.entry("NR", "NoRouteFound"), Map.entry("OM", "OverloadManagerTerminated"),
      Map.entry("RL", "RateLimited"), Map.entry("RLSE", "RateLimitServiceError"),
      Map.entry("SI", "StreamIdleTimeout"), Map.entry("UAEX", "UnauthorizedExternalService"),
      Map.entry("UC", "UpstreamConnectionTermination"), Map.entry("UF", "UpstreamConnectionFailure"),
      Map.entry("UH", "NoHealthyUpstream"), Map.entry("UMSDR", "UpstreamMaxStreamDurationReached"),
      Map.entry("UO", "UpstreamOverflow"), Map.entry("UPE", "UpstreamProtocolError"),
      Map.entry("UR", "UpstreamRemoteReset"), Map.entry("URX", "UpstreamRetryLimitExceeded"),
      Map.entry("UT", "UpstreamRequestTimeout"));

  /** Whether {@code name} is a short flag Envoy defines (access-log filters name flags this way). */
  public static boolean known(String name) {
    return LONG.containsKey(name);
  }

  static String longForm(String flags) {
    if (flags.equals("-")) {
      return "-";
    }
    StringBuilder sb = new StringBuilder();
    for (String f : flags.split(",")) {
      sb.append(sb.length() == 0 ? "" : ",").append(LONG.getOrDefault(f, f));
    }
    return sb.toString();
  }

  /** Whether the recorded {@code flags} include {@code flag}. */
  public static boolean has(String flags, String flag) {
    if (flags.equals(flag)) {
      return true;
    }
    int i = flags.indexOf(flag);
    while (i >= 0) {
      int end = i + flag.length();
      if ((i == 0 || flags.charAt(i - 1) == ',') && (end == flags.length() || flags.charAt(end) == ',')) {
        return true;
      }
      i = flags.indexOf(flag, i + 1);
    }
    return false;
  }
}
