package io.bowline.filters.rbac;

import io.bowline.core.filter.ConnectionGate;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC;

/**
 * {@code envoy.filters.network.rbac}: the same policies judged on a connection — its peer and local addresses, its
 * client certificate and SNI — once its chain is chosen and TLS is up, before the terminal filter sees a byte; a
 * refused connection is closed. Stats {@code <stat_prefix>.rbac.allowed/denied} and the shadow rules' counters.
 * Header and path matchers see nothing on a connection, as in Envoy.
 */
public final class NetworkRbacFactory implements HttpFilterFactory<RBAC> {
  @Override
  public String name() {
    return "envoy.filters.network.rbac";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.network.rbac.v3.RBAC";
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
  public HttpFilterProvider create(RBAC config, FactoryContext context) throws ConfigException {
    throw new ConfigException(context.fieldPath() + ".typed_config",
        "envoy.filters.network.rbac is a network filter: it goes in filter_chains[].filters");
  }

  @Override
  public ConnectionGate connectionGate(RBAC config, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    if (config.hasMatcher() || config.hasShadowMatcher()) {
      throw new ConfigException(path + ".matcher", "the matcher API is not supported by bowline yet");
    }
    if (config.getStatPrefix().isEmpty()) {
      throw new ConfigException(path + ".stat_prefix", "required");
    }
    if (config.getEnforcementType() == RBAC.EnforcementType.CONTINUOUS) {
      throw new ConfigException(path + ".enforcement_type", "CONTINUOUS is not supported by bowline yet");
    }
    RbacPolicies rules = config.hasRules() ? RbacPolicies.compile(config.getRules(), path + ".rules") : null;
    RbacPolicies shadow = config.hasShadowRules()
        ? RbacPolicies.compile(config.getShadowRules(), path + ".shadow_rules") : null;
    String prefix = config.getStatPrefix().endsWith(".") ? config.getStatPrefix() : config.getStatPrefix() + ".";
    Stats.Scope scope = context.stats().stats().scope(prefix + "rbac.");
    Counter allowed = scope.counter("allowed");
    Counter denied = scope.counter("denied");
    Counter shadowAllowed = scope.counter(config.getShadowRulesStatPrefix() + "shadow_allowed");
    Counter shadowDenied = scope.counter(config.getShadowRulesStatPrefix() + "shadow_denied");
    return connection -> {
      RbacRequest r = RbacRequest.ofConnection(connection);
      if (shadow != null) {
        (shadow.decide(r).allowed() ? shadowAllowed : shadowDenied).inc();
      }
      if (rules == null) {
        return true;
      }
      boolean ok = rules.decide(r).allowed();
      (ok ? allowed : denied).inc();
      return ok;
    };
  }
}
