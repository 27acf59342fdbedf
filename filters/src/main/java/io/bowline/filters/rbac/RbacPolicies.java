package io.bowline.filters.rbac;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * {@code config.rbac.v3.RBAC}, compiled: the action and the named policies. A policy matches when any of its
 * permissions and any of its principals match; ALLOW lets a request through only when some policy matches, DENY
 * stops it when one does, LOG never stops it. Policies are tried in name order, so the matched policy is stable.
 */
record RbacPolicies(RBAC.Action action, List<Named> policies) {
  /** One policy. */
  record Named(String name, RbacMatcher permissions, RbacMatcher principals) {}

  static RbacPolicies compile(RBAC rbac, String path) throws ConfigException {
    if (rbac.getAction() == RBAC.Action.UNRECOGNIZED) {
      throw new ConfigException(path + ".action", "unknown action");
    }
    List<Named> out = new ArrayList<>();
    for (Map.Entry<String, Policy> e : new TreeMap<>(rbac.getPoliciesMap()).entrySet()) {
      String pp = path + ".policies[" + e.getKey() + "]";
      Policy p = e.getValue();
      if (p.hasCondition() || p.hasCheckedCondition()) {
        throw new ConfigException(pp + ".condition", "CEL conditions are not supported by bowline yet");
      }
      List<RbacMatcher> perms = new ArrayList<>();
      for (int i = 0; i < p.getPermissionsCount(); i++) {
        perms.add(RbacMatchers.permission(p.getPermissions(i), pp + ".permissions[" + i + "]"));
      }
      List<RbacMatcher> ids = new ArrayList<>();
      for (int i = 0; i < p.getPrincipalsCount(); i++) {
        ids.add(RbacMatchers.principal(p.getPrincipals(i), pp + ".principals[" + i + "]"));
      }
      // Envoy requires both lists; an empty one matches nothing
      out.add(new Named(e.getKey(), perms.isEmpty() ? RbacMatcher.NONE : RbacMatchers.or(perms),
          ids.isEmpty() ? RbacMatcher.NONE : RbacMatchers.or(ids)));
    }
    return new RbacPolicies(rbac.getAction(), List.copyOf(out));
  }

  /** The first policy that matches, or null. */
  @Nullable String matchedPolicy(RbacRequest r) {
    for (Named p : policies) {
      if (p.permissions().matches(r) && p.principals().matches(r)) {
        return p.name();
      }
    }
    return null;
  }

  /** Whether the request may pass, and by which policy the engine decided (null: none matched). */
  record Decision(boolean allowed, @Nullable String policy) {}

  Decision decide(RbacRequest r) {
    String matched = matchedPolicy(r);
    return switch (action) {
      case ALLOW -> new Decision(matched != null, matched);
      case DENY -> new Decision(matched == null, matched);
      default -> new Decision(true, matched); // LOG
    };
  }
}
