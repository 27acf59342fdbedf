package io.bowline.filters.rbac;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.rbac}: enforced {@code rules} (403 {@code RBAC: access denied}) and {@code shadow_rules}
 * (only counted), with Envoy's stats {@code http.<prefix>.rbac.<rules_stat_prefix>allowed/denied} and
 * {@code ...rbac.<shadow_rules_stat_prefix>shadow_allowed/shadow_denied}; per route {@code RBACPerRoute} replaces the
 * rules, or turns them off when it has none. Paths are matched as routed: normalised by the connection manager.
 */
public final class RbacFilterFactory implements HttpFilterFactory<RBAC> {
  /** The dynamic-metadata namespace of the shadow rules' result. */
  static final String NAMESPACE = "envoy.filters.http.rbac";
  @Override
  public String name() {
    return "envoy.filters.http.rbac";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.rbac.v3.RBAC";
  }

  @Override
  public Class<RBAC> configType() {
    return RBAC.class;
  }

  @Override
  public RBAC defaultConfig() {
    return RBAC.getDefaultInstance();
  }

  @Override
  public List<String> routeConfigTypes() {
    return List.of("envoy.extensions.filters.http.rbac.v3.RBACPerRoute");
  }

  /** A route's rules: null enforced rules turn the filter off for the route. */
  record RouteRules(@Nullable RbacPolicies rules) {}

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    try {
      RBACPerRoute r = typedConfig.unpack(RBACPerRoute.class);
      if (!r.hasRbac() || !r.getRbac().hasRules()) {
        return new RouteRules(null);
      }
      check(r.getRbac(), path + ".rbac");
      return new RouteRules(RbacPolicies.compile(r.getRbac().getRules(), path + ".rbac.rules"));
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
    }
  }

  private static void check(RBAC c, String path) throws ConfigException {
    if (c.hasMatcher() || c.hasShadowMatcher()) {
      throw new ConfigException(path + (c.hasMatcher() ? ".matcher" : ".shadow_matcher"),
          "the matcher API is not supported by bowline yet (rules and shadow_rules are)");
    }
  }

  @Override
  public HttpFilterProvider create(RBAC config, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    check(config, path);
    RbacPolicies rules = config.hasRules() ? RbacPolicies.compile(config.getRules(), path + ".rules") : null;
    RbacPolicies shadow = config.hasShadowRules()
        ? RbacPolicies.compile(config.getShadowRules(), path + ".shadow_rules") : null;
    Stats.Scope rbac = context.stats().scope("rbac.");
    Counters counters = new Counters(rbac.counter(config.getRulesStatPrefix() + "allowed"),
        rbac.counter(config.getRulesStatPrefix() + "denied"),
        rbac.counter(config.getShadowRulesStatPrefix() + "shadow_allowed"),
        rbac.counter(config.getShadowRulesStatPrefix() + "shadow_denied"));
    String filterName = context.filterName();
    String shadowPrefix = config.getShadowRulesStatPrefix();
    return callbacks -> new Filter(callbacks, filterName, rules, shadow, counters, shadowPrefix);
  }

  private record Counters(Counter allowed, Counter denied, Counter shadowAllowed, Counter shadowDenied) {}

  private static final class Filter implements HttpFilter {
    private final HttpFilterCallbacks callbacks;
    private final String filterName;
    private final @Nullable RbacPolicies rules;
    private final @Nullable RbacPolicies shadow;
    private final Counters counters;
    private final String shadowPrefix;

    Filter(HttpFilterCallbacks callbacks, String filterName, @Nullable RbacPolicies rules,
        @Nullable RbacPolicies shadow, Counters counters, String shadowPrefix) {
      this.shadowPrefix = shadowPrefix;
      this.callbacks = callbacks;
      this.filterName = filterName;
      this.rules = rules;
      this.shadow = shadow;
      this.counters = counters;
    }

    @Override
    public FilterStatus onRequestHeaders(HttpRequest request, boolean endStream) {
      RbacPolicies enforced = rules;
      if (callbacks.perRouteConfig(filterName) instanceof RouteRules r) {
        enforced = r.rules();
      }
      if (enforced == null && shadow == null) {
        return FilterStatus.CONTINUE;
      }
      RbacRequest r = RbacRequest.of(request.headers(), request.uri(), callbacks);
      if (shadow != null) {
        RbacPolicies.Decision sd = shadow.decide(r);
        (sd.allowed() ? counters.shadowAllowed() : counters.shadowDenied()).inc();
        // Envoy's shadow result in dynamic metadata: Istio's CUSTOM policies gate ext_authz on the policy id
        com.google.protobuf.Struct.Builder md = com.google.protobuf.Struct.newBuilder().putFields(
            shadowPrefix + "shadow_engine_result", com.google.protobuf.Value.newBuilder()
                .setStringValue(sd.allowed() ? "allowed" : "denied").build());
        if (sd.policy() != null) {
          md.putFields(shadowPrefix + "shadow_effective_policy_id",
              com.google.protobuf.Value.newBuilder().setStringValue(sd.policy()).build());
        }
        callbacks.setDynamicMetadata(NAMESPACE, md.build());
      }
      if (enforced == null) {
        return FilterStatus.CONTINUE;
      }
      RbacPolicies.Decision d = enforced.decide(r);
      if (d.allowed()) {
        counters.allowed().inc();
        return FilterStatus.CONTINUE;
      }
      counters.denied().inc();
      callbacks.sendLocalReply(403, "RBAC: access denied", 7, "-",
          "rbac_access_denied_matched_policy[" + (d.policy() == null ? "none" : d.policy()) + "]");
      return FilterStatus.STOP_ITERATION;
    }
  }
}
