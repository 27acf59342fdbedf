package io.bowline.filters.rbac;

import io.bowline.core.compile.HeaderMatchers;
import io.bowline.core.listener.CidrRange;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.tls.Certificates;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code config.rbac.v3} permissions and principals compiled into {@link RbacMatcher}s, with Envoy's meanings: a
 * header matcher sees repeated headers joined with ',', a path matcher the routed (normalised) path without its query,
 * {@code remote_ip} the trusted client address, {@code direct_remote_ip} and {@code source_ip} the socket's peer, and
 * {@code authenticated} the peer certificate's URI SANs, then DNS SANs, then subject; metadata matchers read the
 * stream's dynamic metadata (jwt_authn's payload), which a connection does not have.
 */
final class RbacMatchers {
  private RbacMatchers() {}

  static RbacMatcher permission(Permission p, String path) throws ConfigException {
    return switch (p.getRuleCase()) {
      case ANY -> RbacMatcher.ANY;
      case AND_RULES -> and(permissions(p.getAndRules().getRulesList(), path + ".and_rules.rules"));
      case OR_RULES -> or(permissions(p.getOrRules().getRulesList(), path + ".or_rules.rules"));
      case NOT_RULE -> not(permission(p.getNotRule(), path + ".not_rule"));
      case HEADER -> header(p.getHeader(), path + ".header");
      case URL_PATH -> urlPath(p.getUrlPath(), path + ".url_path");
      case DESTINATION_IP -> ip(p.getDestinationIp(), path + ".destination_ip", r -> r.local());
      case DESTINATION_PORT -> {
        int port = p.getDestinationPort();
        yield r -> r.local() != null && r.local().getPort() == port;
      }
      case DESTINATION_PORT_RANGE -> {
        long start = p.getDestinationPortRange().getStart();
        long end = p.getDestinationPortRange().getEnd();
        yield r -> r.local() != null && r.local().getPort() >= start
            && r.local().getPort() < end;
      }
      case REQUESTED_SERVER_NAME -> {
        HeaderMatcher m = string(p.getRequestedServerName(), path + ".requested_server_name");
        yield r -> m.matchesValue(r.serverName() == null ? "" : r.serverName());
      }
      case METADATA -> MetadataMatchers.compile(p.getMetadata(), path + ".metadata");
      default -> throw new ConfigException(path, "permission " + p.getRuleCase().name().toLowerCase(
          java.util.Locale.ROOT) + " is not supported by bowline yet");
    };
  }

  static RbacMatcher principal(Principal p, String path) throws ConfigException {
    return switch (p.getIdentifierCase()) {
      case ANY -> RbacMatcher.ANY;
      case AND_IDS -> and(principals(p.getAndIds().getIdsList(), path + ".and_ids.ids"));
      case OR_IDS -> or(principals(p.getOrIds().getIdsList(), path + ".or_ids.ids"));
      case NOT_ID -> not(principal(p.getNotId(), path + ".not_id"));
      case HEADER -> header(p.getHeader(), path + ".header");
      case URL_PATH -> urlPath(p.getUrlPath(), path + ".url_path");
      case SOURCE_IP -> ip(p.getSourceIp(), path + ".source_ip", r -> r.directRemote());
      case DIRECT_REMOTE_IP -> ip(p.getDirectRemoteIp(), path + ".direct_remote_ip", r -> r.directRemote());
      case REMOTE_IP -> ip(p.getRemoteIp(), path + ".remote_ip", r -> r.trustedClient());
      case AUTHENTICATED -> authenticated(p.getAuthenticated(), path + ".authenticated");
      case FILTER_STATE -> {
        var fs = p.getFilterState();
        String key = fs.getKey();
        if (!fs.hasStringMatch()) {
          throw new ConfigException(path + ".filter_state", "only string_match is supported by bowline yet");
        }
        HeaderMatcher m = string(fs.getStringMatch(), path + ".filter_state.string_match");
        yield r -> {
          String v = r.filterState().apply(key);
          return v != null && m.matchesValue(v);
        };
      }
      case METADATA -> MetadataMatchers.compile(p.getMetadata(), path + ".metadata");
      default -> throw new ConfigException(path, "principal " + p.getIdentifierCase().name().toLowerCase(
          java.util.Locale.ROOT) + " is not supported by bowline yet");
    };
  }

  private static List<RbacMatcher> permissions(List<Permission> list, String path) throws ConfigException {
    List<RbacMatcher> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      out.add(permission(list.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  private static List<RbacMatcher> principals(List<Principal> list, String path) throws ConfigException {
    List<RbacMatcher> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      out.add(principal(list.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  static RbacMatcher and(List<RbacMatcher> all) {
    RbacMatcher[] a = all.toArray(new RbacMatcher[0]);
    return r -> {
      for (RbacMatcher m : a) {
        if (!m.matches(r)) {
          return false;
        }
      }
      return true;
    };
  }

  static RbacMatcher or(List<RbacMatcher> any) {
    RbacMatcher[] a = any.toArray(new RbacMatcher[0]);
    return r -> {
      for (RbacMatcher m : a) {
        if (m.matches(r)) {
          return true;
        }
      }
      return false;
    };
  }

  private static RbacMatcher not(RbacMatcher m) {
    return r -> !m.matches(r);
  }

  private static RbacMatcher header(io.envoyproxy.envoy.config.route.v3.HeaderMatcher h, String path)
      throws ConfigException {
    HeaderMatcher m = HeaderMatchers.compile(h, path);
    return r -> m.matches(r.headers(), r.requestLine());
  }

  private static RbacMatcher urlPath(io.envoyproxy.envoy.type.matcher.v3.PathMatcher p, String path)
      throws ConfigException {
    if (!p.hasPath()) {
      throw new ConfigException(path + ".path", "required");
    }
    HeaderMatcher m = string(p.getPath(), path + ".path");
    return r -> m.matchesValue(r.path());
  }

  private static HeaderMatcher string(StringMatcher s, String path) throws ConfigException {
    return HeaderMatchers.ofValue(":path", s, path);
  }

  private static RbacMatcher ip(io.envoyproxy.envoy.config.core.v3.CidrRange c, String path,
      java.util.function.Function<RbacRequest, InetSocketAddress> address) throws ConfigException {
    byte[] bytes = io.netty.util.NetUtil.createByteArrayFromIpAddressString(c.getAddressPrefix());
    if (bytes == null) { // an IP literal only: a name is never resolved here
      throw new ConfigException(path + ".address_prefix", "not an IP address: " + c.getAddressPrefix());
    }
    int len = c.hasPrefixLen() ? c.getPrefixLen().getValue() : bytes.length * 8;
    if (len > bytes.length * 8) {
      throw new ConfigException(path + ".prefix_len", "longer than the address");
    }
    CidrRange range = new CidrRange(bytes, len);
    return r -> {
      InetSocketAddress s = address.apply(r);
      return s != null && s.getAddress() != null && range.contains(s.getAddress());
    };
  }

  /** Envoy: any URI SAN, else any DNS SAN, else the subject; with no principal_name, any verified peer. */
  private static RbacMatcher authenticated(Principal.Authenticated a, String path) throws ConfigException {
    HeaderMatcher m = a.hasPrincipalName() ? string(a.getPrincipalName(), path + ".principal_name") : null;
    return r -> {
      X509Certificate peer = Certificates.peer(r.tls());
      if (peer == null) {
        return false;
      }
      if (m == null) {
        return true;
      }
      List<String> uris = Certificates.sans(peer, Certificates.URI);
      if (!uris.isEmpty()) {
        return uris.stream().anyMatch(m::matchesValue);
      }
      List<String> dns = Certificates.sans(peer, Certificates.DNS);
      if (!dns.isEmpty()) {
        return dns.stream().anyMatch(m::matchesValue);
      }
      return m.matchesValue(peer.getSubjectX500Principal().getName());
    };
  }

}
