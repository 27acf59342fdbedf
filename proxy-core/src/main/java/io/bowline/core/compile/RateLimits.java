package io.bowline.core.compile;

import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.router.RateLimitPolicy;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RateLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Compiles {@code config.route.v3.RateLimit} lists (route action, virtual host, or a rate-limit filter's own). */
public final class RateLimits {
  private RateLimits() {}

  public static RateLimitPolicy compile(List<RateLimit> limits, String path) throws ConfigException {
    if (limits.isEmpty()) {
      return RateLimitPolicy.NONE;
    }
    List<RateLimitPolicy.Limit> out = new ArrayList<>();
    for (int i = 0; i < limits.size(); i++) {
      RateLimit rl = limits.get(i);
      String p = path + "[" + i + "]";
      // disable_key names a runtime switch; bowline has no runtime, so the limit is always on, as with Envoy's
      // default runtime
      Fields.allow(rl, p, "stage", "disable_key", "actions");
      int stage = rl.hasStage() ? rl.getStage().getValue() : 0;
      if (stage > 10) {
        throw new ConfigException(p + ".stage", "must be at most 10, got " + stage);
      }
      if (rl.getActionsCount() == 0) {
        throw new ConfigException(p + ".actions", "at least one action is required");
      }
      List<RateLimitPolicy.Action> actions = new ArrayList<>();
      for (int j = 0; j < rl.getActionsCount(); j++) {
        actions.add(action(rl.getActions(j), p + ".actions[" + j + "]"));
      }
      out.add(new RateLimitPolicy.Limit(stage, actions));
    }
    return new RateLimitPolicy(out);
  }

  private static RateLimitPolicy.Action action(RateLimit.Action a, String path) throws ConfigException {
    return switch (a.getActionSpecifierCase()) {
      case DESTINATION_CLUSTER -> new RateLimitPolicy.DestinationCluster();
      case REMOTE_ADDRESS -> new RateLimitPolicy.RemoteAddress();
      case REQUEST_HEADERS -> {
        var h = a.getRequestHeaders();
        String p = path + ".request_headers";
        Fields.allow(h, p, "header_name", "descriptor_key", "skip_if_absent");
        yield new RateLimitPolicy.RequestHeader(required(h.getHeaderName(), p + ".header_name")
            .toLowerCase(Locale.ROOT), required(h.getDescriptorKey(), p + ".descriptor_key"), h.getSkipIfAbsent());
      }
      case QUERY_PARAMETERS -> {
        var q = a.getQueryParameters();
        String p = path + ".query_parameters";
        Fields.allow(q, p, "query_parameter_name", "descriptor_key", "skip_if_absent");
        yield new RateLimitPolicy.QueryParameter(required(q.getQueryParameterName(), p + ".query_parameter_name"),
            required(q.getDescriptorKey(), p + ".descriptor_key"), q.getSkipIfAbsent());
      }
      case GENERIC_KEY -> {
        var g = a.getGenericKey();
        String p = path + ".generic_key";
        Fields.allow(g, p, "descriptor_value", "descriptor_key");
        yield new RateLimitPolicy.GenericKey(g.getDescriptorKey().isEmpty() ? "generic_key" : g.getDescriptorKey(),
            required(g.getDescriptorValue(), p + ".descriptor_value"));
      }
      case HEADER_VALUE_MATCH -> {
        var m = a.getHeaderValueMatch();
        String p = path + ".header_value_match";
        Fields.allow(m, p, "descriptor_key", "descriptor_value", "expect_match", "headers");
        if (m.getHeadersCount() == 0) {
          throw new ConfigException(p + ".headers", "at least one header matcher is required");
        }
        List<HeaderMatcher> matchers = new ArrayList<>();
        for (int k = 0; k < m.getHeadersCount(); k++) {
          matchers.add(HeaderMatchers.compile(m.getHeaders(k), p + ".headers[" + k + "]"));
        }
        yield new RateLimitPolicy.HeaderValueMatch(m.getDescriptorKey().isEmpty() ? "header_match"
            : m.getDescriptorKey(), required(m.getDescriptorValue(), p + ".descriptor_value"),
            !m.hasExpectMatch() || m.getExpectMatch().getValue(), matchers);
      }
      case ACTIONSPECIFIER_NOT_SET -> throw new ConfigException(path, "an action is required");
      default -> throw new ConfigException(path + "." + a.getDescriptorForType()
          .findFieldByNumber(a.getActionSpecifierCase().getNumber()).getName(), "not supported by bowline yet");
    };
  }

  private static String required(String s, String path) throws ConfigException {
    if (s.isEmpty()) {
      throw new ConfigException(path, "required");
    }
    return s;
  }
}
