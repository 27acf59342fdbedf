package io.bowline.core.compile;

import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.router.HeaderMutation;
import io.bowline.core.router.PathMatcher;
import io.bowline.core.router.QueryParameterMatcher;
import io.bowline.core.router.Route;
import io.bowline.core.router.RouteAction;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.router.RetryPolicy;
import io.bowline.core.router.RouteTable;
import io.bowline.core.router.VirtualHost;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** {@code config.route.v3.RouteConfiguration} into a {@link RouteTable}, every matcher compiled once. */
public final class RouteCompiler {
  private static final long DEFAULT_TIMEOUT_MS = 15_000;
  /** The default timeout's x-envoy-expected-rq-timeout-ms value, shared by the routes that keep it. */
  private static final io.netty.util.AsciiString DEFAULT_TIMEOUT_TEXT = io.netty.util.AsciiString.cached("15000");
  private static final int DEFAULT_MAX_DIRECT_BODY = 4096;

  private RouteCompiler() {}

  public static RouteTable compile(RouteConfiguration rc, String path, FilterRegistry filters) throws ConfigException {
    return compile(rc, path, filters, null);
  }

  /** The same, resolving the virtual clusters' stats in {@code stats} (null: none kept). */
  public static RouteTable compile(RouteConfiguration rc, String path, FilterRegistry filters,
      io.bowline.core.stats.@Nullable Stats stats) throws ConfigException {
    Fields.allow(rc, path, "name", "virtual_hosts", "request_headers_to_add", "request_headers_to_remove",
        "response_headers_to_add", "response_headers_to_remove", "validate_clusters",
        "max_direct_response_body_size_bytes", "ignore_port_in_host_matching", "internal_only_headers");
    // Envoy's default cap on a direct_response body is 4 KiB; the route configuration may raise it
    int maxDirectBody = rc.hasMaxDirectResponseBodySizeBytes() ? rc.getMaxDirectResponseBodySizeBytes().getValue()
        : DEFAULT_MAX_DIRECT_BODY;
    List<VirtualHost> vhosts = new ArrayList<>();
    java.util.Set<String> seenDomains = new java.util.HashSet<>();
    for (int i = 0; i < rc.getVirtualHostsCount(); i++) {
      var vh = rc.getVirtualHosts(i);
      String vp = path + ".virtual_hosts[" + i + "]";
      Fields.allow(vh, vp, "name", "domains", "routes", "request_headers_to_add", "request_headers_to_remove",
          "response_headers_to_add", "response_headers_to_remove", "require_tls", "retry_policy",
          "include_request_attempt_count", "typed_per_filter_config", "virtual_clusters", "rate_limits");
      java.util.Map<String, Object> vhFilters = perFilter(vh.getTypedPerFilterConfigMap(),
          vp + ".typed_per_filter_config", filters, java.util.Map.of());
      if (vh.getDomainsCount() == 0) {
        throw new ConfigException(vp + ".domains", "at least one domain is required");
      }
      for (String d : vh.getDomainsList()) {
        if (!seenDomains.add(d.toLowerCase(Locale.ROOT))) {
          throw new ConfigException(vp + ".domains", "domain \"" + d + "\" is already used by another virtual host");
        }
      }
      io.bowline.core.router.VirtualHost.RequireTls requireTls = switch (vh.getRequireTls()) {
        case ALL -> io.bowline.core.router.VirtualHost.RequireTls.ALL;
        case EXTERNAL_ONLY -> io.bowline.core.router.VirtualHost.RequireTls.EXTERNAL_ONLY;
        default -> io.bowline.core.router.VirtualHost.RequireTls.NONE;
      };
      RetryPolicy vhRetry = vh.hasRetryPolicy() ? RetryPolicies.compile(vh.getRetryPolicy(), vp + ".retry_policy",
          vh.getIncludeRequestAttemptCount()) : null;
      List<Route> routes = new ArrayList<>();
      for (int j = 0; j < vh.getRoutesCount(); j++) {
        routes.add(route(vh.getRoutes(j), vp + ".routes[" + j + "]", maxDirectBody, vhRetry,
            vh.getIncludeRequestAttemptCount(),
            filters, vhFilters));
      }
      List<VirtualHost.VirtualCluster> vclusters = new ArrayList<>();
      for (int j = 0; j < vh.getVirtualClustersCount(); j++) {
        var vc = vh.getVirtualClusters(j);
        String vcp = vp + ".virtual_clusters[" + j + "]";
        Fields.allow(vc, vcp, "name", "headers");
        if (vc.getName().isEmpty()) {
          throw new ConfigException(vcp + ".name", "required");
        }
        List<HeaderMatcher> matchers = new ArrayList<>();
        for (int k = 0; k < vc.getHeadersCount(); k++) {
          matchers.add(header(vc.getHeaders(k), vcp + ".headers[" + k + "]"));
        }
        vclusters.add(new VirtualHost.VirtualCluster(vc.getName(), matchers, vclusterStats(stats, vh.getName(),
            vc.getName())));
      }
      VirtualHost.VirtualCluster other = vclusters.isEmpty() ? null
          : new VirtualHost.VirtualCluster("other", List.of(), vclusterStats(stats, vh.getName(), "other"));
      vhosts.add(new VirtualHost(vh.getName(), vh.getDomainsList(), routes,
          mutation(vh.getRequestHeadersToAddList(), vh.getRequestHeadersToRemoveList(), vp, "request"),
          mutation(vh.getResponseHeadersToAddList(), vh.getResponseHeadersToRemoveList(), vp, "response"),
          requireTls, vclusters, other, RateLimits.compile(vh.getRateLimitsList(), vp + ".rate_limits")));
    }
    return new RouteTable(rc.getName(), vhosts,
        mutation(rc.getRequestHeadersToAddList(), rc.getRequestHeadersToRemoveList(), path, "request"),
        mutation(rc.getResponseHeadersToAddList(), rc.getResponseHeadersToRemoveList(), path, "response"),
        rc.getIgnorePortInHostMatching(),
        rc.getInternalOnlyHeadersList().stream().map(n -> n.toLowerCase(Locale.ROOT)).toList());
  }

  private static VirtualHost.@Nullable Stats vclusterStats(io.bowline.core.stats.@Nullable Stats stats,
      String vhost, String vcluster) {
    return stats == null ? null : VirtualHost.Stats.of(stats.scope("vhost." + vhost + ".vcluster." + vcluster + "."));
  }

  /** typed_per_filter_config: each entry parsed by its filter's factory; entries override {@code inherited}. */
  private static java.util.Map<String, Object> perFilter(java.util.Map<String, com.google.protobuf.Any> configs,
      String path, FilterRegistry filters, java.util.Map<String, Object> inherited) throws ConfigException {
    if (configs.isEmpty()) {
      return inherited;
    }
    java.util.Map<String, Object> out = new java.util.HashMap<>(inherited);
    for (var e : new java.util.TreeMap<>(configs).entrySet()) {
      Object parsed = filters.routeConfig(e.getValue(), path + "[" + e.getKey() + "]");
      if (parsed == null) {
        out.remove(e.getKey());
      } else {
        out.put(e.getKey(), parsed);
      }
    }
    return out;
  }

  private static Route route(io.envoyproxy.envoy.config.route.v3.Route r, String path, int maxDirectBody,
      @Nullable RetryPolicy vhRetry,
      boolean attemptCount, FilterRegistry filters, java.util.Map<String, Object> vhFilters) throws ConfigException {
    Fields.allow(r, path, "name", "match", "route", "redirect", "direct_response", "request_headers_to_add",
        "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
        "typed_per_filter_config", "decorator", "metadata", "tracing");
    if (r.hasDecorator()) {
      Fields.allow(r.getDecorator(), path + ".decorator", "operation", "propagate");
    }
    RouteMatch m = r.getMatch();
    String mp = path + ".match";
    Fields.allow(m, mp, "prefix", "path", "safe_regex", "path_separated_prefix", "case_sensitive", "headers",
        "query_parameters", "grpc", "runtime_fraction", "path_match_policy");
    int matchPerMillion = 1_000_000;
    if (m.hasRuntimeFraction()) {
      // runtime_key names a runtime override; bowline has no runtime, so the default value applies, as in Envoy
      // when the key is not set
      Fields.allow(m.getRuntimeFraction(), mp + ".runtime_fraction", "default_value", "runtime_key");
      matchPerMillion = Fractions.perMillion(m.getRuntimeFraction().getDefaultValue(),
          mp + ".runtime_fraction.default_value");
    }
    boolean cs = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    PathMatcher pm = switch (m.getPathSpecifierCase()) {
      case PREFIX -> new PathMatcher.Prefix(m.getPrefix(), cs);
      case PATH -> new PathMatcher.Exact(m.getPath(), cs);
      case PATH_SEPARATED_PREFIX -> {
        String p = m.getPathSeparatedPrefix();
        if (p.endsWith("/") || p.contains("?") || p.contains("#")) {
          throw new ConfigException(mp + ".path_separated_prefix", "must not end in '/' or hold '?' or '#'");
        }
        yield new PathMatcher.SeparatedPrefix(p, cs);
      }
      case SAFE_REGEX -> new PathMatcher.Regex(regex(m.getSafeRegex(), mp + ".safe_regex", !cs));
      case PATH_MATCH_POLICY -> new PathMatcher.Template(uriTemplate(m.getPathMatchPolicy(),
          mp + ".path_match_policy"));
      default -> throw new ConfigException(mp, "a path specifier (prefix, path, safe_regex, path_separated_prefix, "
          + "path_match_policy) is required");
    };
    List<HeaderMatcher> headers = new ArrayList<>();
    for (int i = 0; i < m.getHeadersCount(); i++) {
      headers.add(header(m.getHeaders(i), mp + ".headers[" + i + "]"));
    }
    List<QueryParameterMatcher> query = new ArrayList<>();
    for (int i = 0; i < m.getQueryParametersCount(); i++) {
      query.add(queryParameter(m.getQueryParameters(i), mp + ".query_parameters[" + i + "]"));
    }
    RouteAction action = switch (r.getActionCase()) {
      case ROUTE -> forward(r.getRoute(), path + ".route", vhRetry, attemptCount,
          pm instanceof PathMatcher.Template t ? t.template() : null);
      case REDIRECT -> redirect(r.getRedirect(), path + ".redirect");
      case DIRECT_RESPONSE -> direct(r.getDirectResponse(), path + ".direct_response", maxDirectBody);
      default -> throw new ConfigException(path, "an action (route, redirect, direct_response) is required");
    };
    return new Route(r.getName(), pm, headers, query, m.hasGrpc(), action,
        mutation(r.getRequestHeadersToAddList(), r.getRequestHeadersToRemoveList(), path, "request"),
        mutation(r.getResponseHeadersToAddList(), r.getResponseHeadersToRemoveList(), path, "response"),
        perFilter(r.getTypedPerFilterConfigMap(), path + ".typed_per_filter_config", filters, vhFilters),
        r.hasDecorator() ? r.getDecorator().getOperation() : null, r.getMetadata(),
        RateLimits.compile(r.getRoute().getRateLimitsList(), path + ".route.rate_limits"),
        r.getRoute().hasIncludeVhRateLimits() && r.getRoute().getIncludeVhRateLimits().getValue(), matchPerMillion,
        r.hasTracing() ? TracingCompiler.route(r.getTracing(), path + ".tracing") : null);
  }

  /** A route timeout as the header value the router sends, bytes a codec copies whole. */
  private static io.netty.util.AsciiString timeoutText(long timeoutMs) {
    return timeoutMs == DEFAULT_TIMEOUT_MS ? DEFAULT_TIMEOUT_TEXT
        : new io.netty.util.AsciiString(Long.toString(timeoutMs));
  }

  private static RouteAction.Forward forward(io.envoyproxy.envoy.config.route.v3.RouteAction a, String path,
      @Nullable RetryPolicy vhRetry, boolean attemptCount, io.bowline.core.router.@Nullable UriTemplate matched)
      throws ConfigException {
    Fields.allow(a, path, "cluster", "weighted_clusters", "prefix_rewrite", "regex_rewrite", "host_rewrite_literal",
        "host_rewrite_header", "host_rewrite_path_regex", "path_rewrite_policy",
        "auto_host_rewrite", "timeout", "upgrade_configs", "retry_policy", "hash_policy", "request_mirror_policies",
        "idle_timeout", "max_stream_duration", "max_grpc_timeout", "grpc_timeout_offset", "cluster_header",
        "cluster_not_found_response_code", "rate_limits", "include_vh_rate_limits");
    List<RouteAction.Mirror> mirrors = new ArrayList<>();
    for (int i = 0; i < a.getRequestMirrorPoliciesCount(); i++) {
      var m = a.getRequestMirrorPolicies(i);
      String mp = path + ".request_mirror_policies[" + i + "]";
      Fields.allow(m, mp, "cluster", "runtime_fraction", "trace_sampled", "disable_shadow_host_suffix_append");
      if (m.getCluster().isEmpty()) {
        throw new ConfigException(mp + ".cluster", "required");
      }
      int perMillion = 1_000_000;
      if (m.hasRuntimeFraction()) {
        Fields.allow(m.getRuntimeFraction(), mp + ".runtime_fraction", "default_value", "runtime_key");
        perMillion = Fractions.perMillion(m.getRuntimeFraction().getDefaultValue(),
            mp + ".runtime_fraction.default_value");
      }
      mirrors.add(new RouteAction.Mirror(m.getCluster(), perMillion, !m.getDisableShadowHostSuffixAppend()));
    }
    List<io.bowline.core.router.HashPolicy> hashing = new ArrayList<>();
    for (int i = 0; i < a.getHashPolicyCount(); i++) {
      var hp = a.getHashPolicy(i);
      String hpp = path + ".hash_policy[" + i + "]";
      Fields.allow(hp, hpp, "header", "cookie", "connection_properties", "query_parameter", "filter_state",
          "terminal");
      hashing.add(switch (hp.getPolicySpecifierCase()) {
        case HEADER -> {
          Fields.allow(hp.getHeader(), hpp + ".header", "header_name");
          yield new io.bowline.core.router.HashPolicy(io.bowline.core.router.HashPolicy.Kind.HEADER,
              hp.getHeader().getHeaderName().toLowerCase(Locale.ROOT), hp.getTerminal());
        }
        case COOKIE -> {
          var c = hp.getCookie();
          Fields.allow(c, hpp + ".cookie", "name", "ttl", "path");
          if (c.getName().isEmpty()) {
            throw new ConfigException(hpp + ".cookie.name", "required");
          }
          yield new io.bowline.core.router.HashPolicy(io.bowline.core.router.HashPolicy.Kind.COOKIE,
              c.getName(), hp.getTerminal(), c.hasTtl() ? c.getTtl().getSeconds() : -1, c.getPath());
        }
        case CONNECTION_PROPERTIES -> new io.bowline.core.router.HashPolicy(
            io.bowline.core.router.HashPolicy.Kind.SOURCE_IP, "", hp.getTerminal());
        case QUERY_PARAMETER -> new io.bowline.core.router.HashPolicy(
            io.bowline.core.router.HashPolicy.Kind.QUERY_PARAMETER, hp.getQueryParameter().getName(),
            hp.getTerminal());
        case FILTER_STATE -> {
          if (hp.getFilterState().getKey().isEmpty()) {
            throw new ConfigException(hpp + ".filter_state.key", "required");
          }
          yield new io.bowline.core.router.HashPolicy(io.bowline.core.router.HashPolicy.Kind.FILTER_STATE,
              hp.getFilterState().getKey(), hp.getTerminal());
        }
        default -> throw new ConfigException(hpp, "header, cookie, connection_properties, query_parameter or "
            + "filter_state is required");
      });
    }
    // a route's retry policy replaces its virtual host's, it does not merge with it (Envoy)
    RetryPolicy retry = a.hasRetryPolicy() ? RetryPolicies.compile(a.getRetryPolicy(), path + ".retry_policy",
        attemptCount) : vhRetry;
    List<RouteAction.WeightedCluster> clusters = new ArrayList<>();
    int total = 0;
    String clusterHeader = null;
    switch (a.getClusterSpecifierCase()) {
      case CLUSTER -> clusters.add(new RouteAction.WeightedCluster(a.getCluster(), 1));
      case CLUSTER_HEADER -> {
        if (a.getClusterHeader().isEmpty()) {
          throw new ConfigException(path + ".cluster_header", "must name a header");
        }
        clusterHeader = a.getClusterHeader().toLowerCase(Locale.ROOT);
      }
      case WEIGHTED_CLUSTERS -> {
        WeightedCluster wc = a.getWeightedClusters();
        // runtime_key_prefix names runtime overrides of the weights; bowline has no runtime, so the configured
        // weights hold, as in an Envoy whose runtime sets none of those keys
        Fields.allow(wc, path + ".weighted_clusters", "clusters", "total_weight", "runtime_key_prefix");
        for (int i = 0; i < wc.getClustersCount(); i++) {
          var c = wc.getClusters(i);
          String cp = path + ".weighted_clusters.clusters[" + i + "]";
          Fields.allow(c, cp, "name", "weight", "request_headers_to_add", "request_headers_to_remove",
              "response_headers_to_add", "response_headers_to_remove");
          clusters.add(new RouteAction.WeightedCluster(c.getName(), c.getWeight().getValue(),
              mutation(c.getRequestHeadersToAddList(), c.getRequestHeadersToRemoveList(), cp, "request"),
              mutation(c.getResponseHeadersToAddList(), c.getResponseHeadersToRemoveList(), cp, "response")));
          total += c.getWeight().getValue();
        }
        if (total == 0) {
          throw new ConfigException(path + ".weighted_clusters", "the weights must not all be zero");
        }
        if (wc.hasTotalWeight() && wc.getTotalWeight().getValue() > 0 && wc.getTotalWeight().getValue() != total) {
          throw new ConfigException(path + ".weighted_clusters.total_weight", "the weights sum to " + total
              + ", not " + wc.getTotalWeight().getValue());
        }
      }
      default -> throw new ConfigException(path, "cluster, cluster_header or weighted_clusters is required "
          + "(cluster_specifier_plugin is not supported by bowline yet)");
    }
    int notFound = switch (a.getClusterNotFoundResponseCode()) {
      case NOT_FOUND -> 404;
      case INTERNAL_SERVER_ERROR -> 500;
      default -> 503;
    };
    if (a.hasRegexRewrite() && !a.getPrefixRewrite().isEmpty()) {
      throw new ConfigException(path + ".regex_rewrite", "cannot be combined with prefix_rewrite");
    }
    Pattern rr = null;
    String sub = null;
    if (a.hasRegexRewrite()) {
      RegexMatchAndSubstitute r = a.getRegexRewrite();
      rr = regex(r.getPattern(), path + ".regex_rewrite.pattern", false);
      sub = substitution(r.getSubstitution());
    }
    boolean upgrades = false;
    for (int i = 0; i < a.getUpgradeConfigsCount(); i++) {
      var u = a.getUpgradeConfigs(i);
      if (!u.getUpgradeType().equalsIgnoreCase("websocket")) {
        throw new ConfigException(path + ".upgrade_configs[" + i + "].upgrade_type", "only websocket is supported");
      }
      upgrades = !u.hasEnabled() || u.getEnabled().getValue();
    }
    long timeout = a.hasTimeout() ? Fields.millis(a.getTimeout()) : DEFAULT_TIMEOUT_MS;
    return new RouteAction.Forward(clusters, total, a.getPrefixRewrite().isEmpty() ? null : a.getPrefixRewrite(), rr,
        sub, templateRewrite(a, path, matched), hostRewrite(a, path),
        a.getAutoHostRewrite().getValue(), timeout, a.getUpgradeConfigsCount() == 0 || upgrades,
        timeoutText(timeout), retry, hashing, mirrors,
        a.hasIdleTimeout() ? Fields.millis(a.getIdleTimeout()) : -1, streamDuration(a, path),
        a.hasMaxGrpcTimeout() ? Fields.millis(a.getMaxGrpcTimeout()) : -1,
        a.hasGrpcTimeoutOffset() ? Fields.millis(a.getGrpcTimeoutOffset()) : 0, clusterHeader, notFound);
  }

  private static RouteAction.@Nullable StreamDuration streamDuration(io.envoyproxy.envoy.config.route.v3.RouteAction a,
      String path) throws ConfigException {
    if (!a.hasMaxStreamDuration()) {
      return null;
    }
    var d = a.getMaxStreamDuration();
    Fields.allow(d, path + ".max_stream_duration", "max_stream_duration", "grpc_timeout_header_max",
        "grpc_timeout_header_offset");
    return new RouteAction.StreamDuration(d.hasMaxStreamDuration() ? Fields.millis(d.getMaxStreamDuration()) : -1,
        d.hasGrpcTimeoutHeaderMax() ? Fields.millis(d.getGrpcTimeoutHeaderMax()) : -1,
        d.hasGrpcTimeoutHeaderOffset() ? Fields.millis(d.getGrpcTimeoutHeaderOffset()) : 0);
  }

  private static final String URI_TEMPLATE_MATCH =
      "envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig";
  private static final String URI_TEMPLATE_REWRITE =
      "envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig";

  /** {@code path_match_policy}: Envoy's uri_template matcher, the one extension there is. */
  private static io.bowline.core.router.UriTemplate uriTemplate(
      io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig c, String path) throws ConfigException {
    Fields.allow(c, path, "name", "typed_config");
    if (!Fields.typeName(c.getTypedConfig()).equals(URI_TEMPLATE_MATCH)) {
      throw new ConfigException(path + ".typed_config", "path matcher " + Fields.typeName(c.getTypedConfig())
          + " is not supported by bowline (uri_template is)");
    }
    var t = Fields.unpack(c.getTypedConfig(),
        io.envoyproxy.envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig.class, path + ".typed_config");
    try {
      return io.bowline.core.router.UriTemplate.parse(t.getPathTemplate());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ".typed_config.path_template", "\"" + t.getPathTemplate() + "\": "
          + e.getMessage());
    }
  }

  /** {@code path_rewrite_policy}: the uri_template rewriter, over the route's uri_template match. */
  private static io.bowline.core.router.UriTemplate.@Nullable Rewrite templateRewrite(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String path,
      io.bowline.core.router.@Nullable UriTemplate matched) throws ConfigException {
    if (!a.hasPathRewritePolicy()) {
      return null;
    }
    String pp = path + ".path_rewrite_policy";
    var c = a.getPathRewritePolicy();
    Fields.allow(c, pp, "name", "typed_config");
    if (!Fields.typeName(c.getTypedConfig()).equals(URI_TEMPLATE_REWRITE)) {
      throw new ConfigException(pp + ".typed_config", "path rewriter " + Fields.typeName(c.getTypedConfig())
          + " is not supported by bowline (uri_template is)");
    }
    if (matched == null) {
      throw new ConfigException(pp, "a uri_template rewrite needs the route to match with a uri_template "
          + "path_match_policy");
    }
    if (a.getPrefixRewrite().length() > 0 || a.hasRegexRewrite()) {
      throw new ConfigException(pp, "only one of prefix_rewrite, regex_rewrite and path_rewrite_policy may be set");
    }
    var t = Fields.unpack(c.getTypedConfig(),
        io.envoyproxy.envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig.class,
        pp + ".typed_config");
    try {
      return matched.rewrite(t.getPathTemplateRewrite());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(pp + ".typed_config.path_template_rewrite", "\"" + t.getPathTemplateRewrite()
          + "\": " + e.getMessage());
    }
  }

  /** The route's host rewrite (literal, header or path regex; auto_host_rewrite is the cluster's, elsewhere). */
  private static RouteAction.@Nullable HostRewrite hostRewrite(io.envoyproxy.envoy.config.route.v3.RouteAction a,
      String path) throws ConfigException {
    return switch (a.getHostRewriteSpecifierCase()) {
      case HOST_REWRITE_LITERAL -> a.getHostRewriteLiteral().isEmpty() ? null
          : new RouteAction.LiteralHost(a.getHostRewriteLiteral());
      case HOST_REWRITE_HEADER -> {
        if (a.getHostRewriteHeader().isEmpty()) {
          throw new ConfigException(path + ".host_rewrite_header", "a header name is required");
        }
        yield new RouteAction.HeaderHost(a.getHostRewriteHeader().toLowerCase(Locale.ROOT));
      }
      case HOST_REWRITE_PATH_REGEX -> new RouteAction.PathRegexHost(regex(a.getHostRewritePathRegex().getPattern(),
          path + ".host_rewrite_path_regex.pattern", false),
          substitution(a.getHostRewritePathRegex().getSubstitution()));
      default -> null;
    };
  }

  private static RouteAction.Redirect redirect(RedirectAction r, String path) throws ConfigException {
    Fields.allow(r, path, "https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect",
        "prefix_rewrite", "regex_rewrite", "response_code", "strip_query");
    String scheme = r.getHttpsRedirect() ? "https" : r.getSchemeRedirect().isEmpty() ? null : r.getSchemeRedirect();
    Pattern rr = null;
    String sub = null;
    if (r.hasRegexRewrite()) {
      rr = regex(r.getRegexRewrite().getPattern(), path + ".regex_rewrite.pattern", false);
      sub = substitution(r.getRegexRewrite().getSubstitution());
    }
    int status = switch (r.getResponseCode()) {
      case MOVED_PERMANENTLY -> 301;
      case FOUND -> 302;
      case SEE_OTHER -> 303;
      case TEMPORARY_REDIRECT -> 307;
      case PERMANENT_REDIRECT -> 308;
      default -> throw new ConfigException(path + ".response_code", "unknown redirect response code");
    };
    return new RouteAction.Redirect(scheme, r.getHostRedirect().isEmpty() ? null : r.getHostRedirect(),
        r.getPortRedirect(), r.getPathRedirect().isEmpty() ? null : r.getPathRedirect(),
        r.getPrefixRewrite().isEmpty() ? null : r.getPrefixRewrite(), rr, sub, status, r.getStripQuery());
  }

  private static RouteAction.DirectResponse direct(DirectResponseAction d, String path, int maxBody)
      throws ConfigException {
    Fields.allow(d, path, "status", "body");
    if (d.getStatus() < 200 || d.getStatus() > 599) {
      throw new ConfigException(path + ".status", "must be in [200, 600), got " + d.getStatus());
    }
    byte[] body = null;
    if (d.hasBody()) {
      body = DataSources.read(d.getBody(), path + ".body");
      if (body.length > maxBody) {
        throw new ConfigException(path + ".body", body.length + " bytes, over the " + maxBody + "-byte limit "
            + "(raise it with the route configuration's max_direct_response_body_size_bytes)");
      }
    }
    return new RouteAction.DirectResponse(d.getStatus(), body);
  }

  static HeaderMatcher header(io.envoyproxy.envoy.config.route.v3.HeaderMatcher h, String path)
      throws ConfigException {
    Fields.allow(h, path, "name", "exact_match", "safe_regex_match", "range_match", "present_match", "prefix_match",
        "suffix_match", "contains_match", "string_match", "invert_match", "treat_missing_header_as_empty");
    String name = h.getName().toLowerCase(Locale.ROOT);
    if (name.isEmpty()) {
      throw new ConfigException(path + ".name", "required");
    }
    if (name.startsWith(":")) {
      name = switch (name) {
        case ":authority" -> "host";
        default -> name; // :method, :path, :scheme are read from the request line; others are never present
      };
    }
    boolean inv = h.getInvertMatch();
    boolean empty = h.getTreatMissingHeaderAsEmpty();
    return switch (h.getHeaderMatchSpecifierCase()) {
      case EXACT_MATCH -> m(name, HeaderMatcher.Kind.EXACT, h.getExactMatch(), inv, empty, false);
      case PREFIX_MATCH -> m(name, HeaderMatcher.Kind.PREFIX, h.getPrefixMatch(), inv, empty, false);
      case SUFFIX_MATCH -> m(name, HeaderMatcher.Kind.SUFFIX, h.getSuffixMatch(), inv, empty, false);
      case CONTAINS_MATCH -> m(name, HeaderMatcher.Kind.CONTAINS, h.getContainsMatch(), inv, empty, false);
      case SAFE_REGEX_MATCH -> new HeaderMatcher(name, HeaderMatcher.Kind.REGEX, null,
          regex(h.getSafeRegexMatch(), path + ".safe_regex_match", false), 0, 0, true, false, inv, empty);
      case RANGE_MATCH -> new HeaderMatcher(name, HeaderMatcher.Kind.RANGE, null, null, h.getRangeMatch().getStart(),
          h.getRangeMatch().getEnd(), true, false, inv, empty);
      case PRESENT_MATCH -> new HeaderMatcher(name, HeaderMatcher.Kind.PRESENT, null, null, 0, 0,
          h.getPresentMatch(), false, inv, empty);
      case STRING_MATCH -> stringMatch(name, h.getStringMatch(), path + ".string_match", inv, empty);
      default -> new HeaderMatcher(name, HeaderMatcher.Kind.PRESENT, null, null, 0, 0, true, false, inv, empty);
    };
  }

  private static HeaderMatcher m(String name, HeaderMatcher.Kind k, String v, boolean inv, boolean empty,
      boolean ignoreCase) {
    return new HeaderMatcher(name, k, ignoreCase && k == HeaderMatcher.Kind.CONTAINS ? v.toLowerCase(Locale.ROOT) : v,
        null, 0, 0, true, ignoreCase, inv, empty);
  }

  static HeaderMatcher stringMatch(String name, StringMatcher s, String path, boolean inv, boolean empty)
      throws ConfigException {
    boolean ic = s.getIgnoreCase();
    return switch (s.getMatchPatternCase()) {
      case EXACT -> m(name, HeaderMatcher.Kind.EXACT, s.getExact(), inv, empty, ic);
      case PREFIX -> m(name, HeaderMatcher.Kind.PREFIX, s.getPrefix(), inv, empty, ic);
      case SUFFIX -> m(name, HeaderMatcher.Kind.SUFFIX, s.getSuffix(), inv, empty, ic);
      case CONTAINS -> m(name, HeaderMatcher.Kind.CONTAINS, s.getContains(), inv, empty, ic);
      case SAFE_REGEX -> new HeaderMatcher(name, HeaderMatcher.Kind.REGEX, null,
          regex(s.getSafeRegex(), path + ".safe_regex", false), 0, 0, true, false, inv, empty);
      default -> throw new ConfigException(path, "a match pattern is required");
    };
  }

  private static QueryParameterMatcher queryParameter(
      io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher q, String path) throws ConfigException {
    Fields.allow(q, path, "name", "string_match", "present_match");
    if (q.hasStringMatch()) {
      StringMatcher s = q.getStringMatch();
      String sp = path + ".string_match";
      boolean ic = s.getIgnoreCase();
      return switch (s.getMatchPatternCase()) {
        case EXACT -> new QueryParameterMatcher(q.getName(), HeaderMatcher.Kind.EXACT, s.getExact(), null, ic);
        case PREFIX -> new QueryParameterMatcher(q.getName(), HeaderMatcher.Kind.PREFIX, s.getPrefix(), null, ic);
        case SUFFIX -> new QueryParameterMatcher(q.getName(), HeaderMatcher.Kind.SUFFIX, s.getSuffix(), null, ic);
        case CONTAINS -> new QueryParameterMatcher(q.getName(), HeaderMatcher.Kind.CONTAINS,
            ic ? s.getContains().toLowerCase(Locale.ROOT) : s.getContains(), null, ic);
        case SAFE_REGEX -> new QueryParameterMatcher(q.getName(), HeaderMatcher.Kind.REGEX, null,
            regex(s.getSafeRegex(), sp + ".safe_regex", false), false);
        default -> throw new ConfigException(sp, "a match pattern is required");
      };
    }
    return new QueryParameterMatcher(q.getName(), HeaderMatcher.Kind.PRESENT, null, null, false);
  }

  /**
   * RE2 patterns compiled with java.util.regex. The syntax both share is what Envoy configs use in practice;
   * constructs java.util.regex has and RE2 lacks (backreferences, lookaround) are refused, keeping matching linear.
   */
  static Pattern regex(RegexMatcher r, String path, boolean ignoreCase) throws ConfigException {
    String re = r.getRegex();
    if (re.matches(".*(\\\\[1-9]|\\(\\?[=!<]).*")) {
      throw new ConfigException(path + ".regex", "backreferences and lookaround are not RE2 and are refused");
    }
    try {
      return Pattern.compile(re, ignoreCase ? Pattern.CASE_INSENSITIVE : 0);
    } catch (PatternSyntaxException e) {
      throw new ConfigException(path + ".regex", "invalid regex: " + e.getDescription());
    }
  }

  /** RE2 substitutions use \1; java.util.regex uses $1. */
  private static String substitution(String s) {
    return s.replace("$", "\\$").replaceAll("\\\\([0-9])", "\\$$1");
  }

  private static HeaderMutation mutation(List<HeaderValueOption> add, List<String> remove, String path, String kind)
      throws ConfigException {
    if (add.isEmpty() && remove.isEmpty()) {
      return HeaderMutation.NONE;
    }
    List<HeaderMutation.Add> adds = new ArrayList<>();
    for (int i = 0; i < add.size(); i++) {
      HeaderValueOption o = add.get(i);
      String p = path + "." + kind + "_headers_to_add[" + i + "]";
      Fields.allow(o, p, "header", "append", "append_action", "keep_empty_value");
      String name = o.getHeader().getKey().toLowerCase(Locale.ROOT);
      String value = o.getHeader().getRawValue().isEmpty() ? o.getHeader().getValue()
          : o.getHeader().getRawValue().toString(StandardCharsets.UTF_8);
      io.bowline.core.router.HeaderValueFormat format;
      try {
        format = io.bowline.core.router.HeaderValueFormat.parse(value);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(p + ".header.value", e.getMessage());
      }
      if (name.startsWith(":") || name.equals("host")) {
        throw new ConfigException(p + ".header.key", "pseudo-headers and host cannot be modified this way");
      }
      boolean append = !o.hasAppend() || o.getAppend().getValue();
      boolean ifAbsent = false;
      if (o.hasAppend() && o.getAppendActionValue() != 0) {
        throw new ConfigException(p, "append and append_action are mutually exclusive");
      }
      switch (o.getAppendAction()) {
        case OVERWRITE_IF_EXISTS_OR_ADD -> append = false;
        case ADD_IF_ABSENT -> ifAbsent = true;
        case APPEND_IF_EXISTS_OR_ADD -> { }
        case OVERWRITE_IF_EXISTS -> throw new ConfigException(p + ".append_action",
            "OVERWRITE_IF_EXISTS is not supported by bowline yet");
        default -> { }
      }
      adds.add(new HeaderMutation.Add(name, value.replace("%%", "%"), append, ifAbsent, format,
          o.getKeepEmptyValue()));
    }
    List<String> removes = new ArrayList<>();
    for (String r : remove) {
      removes.add(r.toLowerCase(Locale.ROOT));
    }
    return new HeaderMutation(adds, removes);
  }
}
