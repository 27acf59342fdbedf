package io.bowline.filters.jwt;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.nimbusds.jose.jwk.JWKSet;
import io.bowline.core.compile.HeaderMatchers;
import io.bowline.core.filter.FilterStatus;
import io.bowline.core.filter.HttpFilter;
import io.bowline.core.filter.HttpFilterCallbacks;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code envoy.filters.http.jwt_authn}: providers ({@code issuer}, {@code audiences}, {@code local_jwks},
 * {@code remote_jwks} through a cluster with {@code cache_duration}, {@code from_headers} / {@code from_params} /
 * {@code from_cookies}, {@code forward}, {@code forward_payload_header}, {@code claim_to_headers},
 * {@code clock_skew_seconds}), {@code rules} and {@code requirement_map} with Envoy's requirement kinds, per-route
 * {@code PerRouteConfig}. A request that fails its requirement gets 401 (403 for a wrong audience) with
 * {@code WWW-Authenticate: Bearer realm="<url>"} and, for a bad token, {@code error="invalid_token"}.
 */
public final class JwtAuthnFactory implements HttpFilterFactory<JwtAuthentication> {
  /** The dynamic-metadata namespace of verified payloads ({@code payload_in_metadata}), as Envoy names it. */
  static final String NAMESPACE = "envoy.filters.http.jwt_authn";
  @Override
  public String name() {
    return "envoy.filters.http.jwt_authn";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";
  }

  @Override
  public Class<JwtAuthentication> configType() {
    return JwtAuthentication.class;
  }

  @Override
  public JwtAuthentication defaultConfig() {
    return JwtAuthentication.getDefaultInstance();
  }

  @Override
  public List<String> routeConfigTypes() {
    return List.of("envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig");
  }

  /** A route's choice: off, or a named requirement of the filter's requirement_map. */
  record RouteChoice(boolean disabled, String requirementName) {}

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    try {
      PerRouteConfig p = typedConfig.unpack(PerRouteConfig.class);
      return new RouteChoice(p.getDisabled(), p.getRequirementName());
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode: " + e.getMessage(), e);
    }
  }

  /** A rule: what requests it takes and what they must satisfy. */
  private record Rule(@Nullable String prefix, @Nullable String exact, @Nullable Pattern regex,
      List<HeaderMatcher> headers, Requirement requirement) {
    boolean matches(String path, io.netty.handler.codec.http.HttpHeaders h) {
      if (prefix != null && !path.startsWith(prefix) || exact != null && !path.equals(exact)
          || regex != null && !regex.matcher(path).matches()) {
        return false;
      }
      for (HeaderMatcher m : headers) {
        if (!m.matches(h)) {
          return false;
        }
      }
      return true;
    }
  }

  @Override
  public HttpFilterProvider create(JwtAuthentication c, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    Map<String, JwtProvider> providers = new LinkedHashMap<>();
    for (var e : c.getProvidersMap().entrySet()) {
      providers.put(e.getKey(), provider(e.getKey(), e.getValue(), path + ".providers[" + e.getKey() + "]", context));
    }
    Map<String, Requirement> named = new HashMap<>();
    for (var e : c.getRequirementMapMap().entrySet()) {
      named.put(e.getKey(), requirement(e.getValue(), providers, path + ".requirement_map[" + e.getKey() + "]"));
    }
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < c.getRulesCount(); i++) {
      var r = c.getRules(i);
      String rp = path + ".rules[" + i + "]";
      Requirement req;
      if (r.hasRequires()) {
        req = requirement(r.getRequires(), providers, rp + ".requires");
      } else if (!r.getRequirementName().isEmpty()) {
        req = named.get(r.getRequirementName());
        if (req == null) {
          throw new ConfigException(rp + ".requirement_name", "no requirement_map entry '" + r.getRequirementName()
              + "'");
        }
      } else {
        req = null; // a rule without requirement: matching requests need no JWT
      }
      rules.add(rule(r.getMatch(), req, rp + ".match"));
    }
    StateRules stateRules = null;
    if (c.hasFilterStateRules()) {
      var f = c.getFilterStateRules();
      String fp = path + ".filter_state_rules";
      if (f.getName().isEmpty()) {
        throw new ConfigException(fp + ".name", "required");
      }
      Map<String, Requirement> byValue = new HashMap<>();
      for (var e : f.getRequiresMap().entrySet()) {
        byValue.put(e.getKey(), requirement(e.getValue(), providers, fp + ".requires[" + e.getKey() + "]"));
      }
      stateRules = new StateRules(f.getName(), Map.copyOf(byValue));
    }
    String filterName = context.filterName();
    List<JwtProvider> all = List.copyOf(providers.values());
    StateRules byState = stateRules;
    return callbacks -> new Filter(callbacks, filterName, rules, byState, named, all, c.getBypassCorsPreflight());
  }

  /** {@code filter_state_rules}: when no rule matched, the requirement named by a filter state value. */
  private record StateRules(String key, Map<String, Requirement> requires) {}

  private static Rule rule(RouteMatch m, @Nullable Requirement req, String path) throws ConfigException {
    List<HeaderMatcher> headers = new ArrayList<>();
    for (int i = 0; i < m.getHeadersCount(); i++) {
      headers.add(HeaderMatchers.compile(m.getHeaders(i), path + ".headers[" + i + "]"));
    }
    Requirement r = req == null ? new Requirement.AllowMissingOrFailed() : req;
    return switch (m.getPathSpecifierCase()) {
      case PREFIX -> new Rule(m.getPrefix(), null, null, headers, r);
      case PATH -> new Rule(null, m.getPath(), null, headers, r);
      case SAFE_REGEX -> new Rule(null, null, Pattern.compile(m.getSafeRegex().getRegex()), headers, r);
      default -> throw new ConfigException(path, "rules match on prefix, path or safe_regex in bowline so far");
    };
  }

  private static Requirement requirement(JwtRequirement r, Map<String, JwtProvider> providers, String path)
      throws ConfigException {
    return switch (r.getRequiresTypeCase()) {
      case PROVIDER_NAME -> {
        JwtProvider p = providers.get(r.getProviderName());
        if (p == null) {
          throw new ConfigException(path + ".provider_name", "no provider '" + r.getProviderName() + "'");
        }
        yield new Requirement.Provider(p);
      }
      case REQUIRES_ANY, REQUIRES_ALL -> {
        boolean any = r.hasRequiresAny();
        var list = any ? r.getRequiresAny().getRequirementsList() : r.getRequiresAll().getRequirementsList();
        List<Requirement> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          out.add(requirement(list.get(i), providers, path + (any ? ".requires_any" : ".requires_all")
              + ".requirements[" + i + "]"));
        }
        yield any ? new Requirement.Any(List.copyOf(out)) : new Requirement.All(List.copyOf(out));
      }
      case PROVIDER_AND_AUDIENCES -> {
        var pa = r.getProviderAndAudiences();
        JwtProvider p = providers.get(pa.getProviderName());
        if (p == null) {
          throw new ConfigException(path + ".provider_and_audiences.provider_name", "no provider '"
              + pa.getProviderName() + "'");
        }
        yield new Requirement.Provider(p.withAudiences(Set.copyOf(pa.getAudiencesList())));
      }
      case ALLOW_MISSING -> new Requirement.AllowMissing();
      case ALLOW_MISSING_OR_FAILED -> new Requirement.AllowMissingOrFailed();
      default -> throw new ConfigException(path, "requirement " + r.getRequiresTypeCase()
          + " is not supported by bowline yet");
    };
  }

  private static JwtProvider provider(String name, io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider p,
      String path, FactoryContext context) throws ConfigException {
    JwksSource keys;
    switch (p.getJwksSourceSpecifierCase()) {
      case LOCAL_JWKS -> {
        try {
          var ds = p.getLocalJwks();
          String text = switch (ds.getSpecifierCase()) {
            case INLINE_STRING -> ds.getInlineString();
            case INLINE_BYTES -> ds.getInlineBytes().toString(StandardCharsets.UTF_8);
            case FILENAME -> java.nio.file.Files.readString(java.nio.file.Path.of(ds.getFilename()));
            default -> throw new ConfigException(path + ".local_jwks", "inline_string, inline_bytes or filename");
          };
          keys = JwksSource.fixed(JWKSet.parse(text));
        } catch (java.io.IOException | java.text.ParseException e) {
          throw new ConfigException(path + ".local_jwks", "not a JWK set: " + e.getMessage(), e);
        }
      }
      case REMOTE_JWKS -> {
        var r = p.getRemoteJwks();
        var uri = r.getHttpUri();
        if (uri.getCluster().isEmpty() || !context.clusters().exists(uri.getCluster())) {
          throw new ConfigException(path + ".remote_jwks.http_uri.cluster", "unknown cluster '" + uri.getCluster()
              + "'");
        }
        String rawPath = java.net.URI.create(uri.getUri()).getRawPath();
        String query = java.net.URI.create(uri.getUri()).getRawQuery();
        keys = JwksSource.remote(uri.getCluster(), (rawPath == null || rawPath.isEmpty() ? "/" : rawPath)
            + (query == null ? "" : "?" + query), uri.hasTimeout() ? millis(uri.getTimeout()) : 1000,
            r.hasCacheDuration() ? millis(r.getCacheDuration()) : 600_000, context.clusters());
      }
      default -> throw new ConfigException(path, "local_jwks or remote_jwks is required");
    }
    List<JwtProvider.FromHeader> headers = new ArrayList<>();
    for (var h : p.getFromHeadersList()) {
      headers.add(new JwtProvider.FromHeader(h.getName().toLowerCase(java.util.Locale.ROOT), h.getValuePrefix()));
    }
    List<String> params = new ArrayList<>(p.getFromParamsList());
    if (headers.isEmpty() && params.isEmpty() && p.getFromCookiesCount() == 0) {
      headers.add(new JwtProvider.FromHeader("authorization", "Bearer ")); // Envoy's defaults
      params.add("access_token");
    }
    List<JwtProvider.ClaimToHeader> claims = new ArrayList<>();
    for (var ch : p.getClaimToHeadersList()) {
      claims.add(new JwtProvider.ClaimToHeader(ch.getHeaderName(), ch.getClaimName()));
    }
    return new JwtProvider(name, p.getIssuer().isEmpty() ? null : p.getIssuer(), Set.copyOf(p.getAudiencesList()),
        keys, List.copyOf(headers), List.copyOf(params), List.copyOf(p.getFromCookiesList()), p.getForward(),
        p.getForwardPayloadHeader().isEmpty() ? null : p.getForwardPayloadHeader(), p.getPadForwardPayloadHeader(),
        List.copyOf(claims), p.getClockSkewSeconds() == 0 ? 60 : p.getClockSkewSeconds(),
        p.getPayloadInMetadata().isEmpty() ? null : p.getPayloadInMetadata(),
        Set.copyOf(p.getNormalizePayloadInMetadata().getSpaceDelimitedClaimsList()), verifications(p));
  }

  private static Verifications verifications(io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider p) {
    if (!p.hasJwtCacheConfig()) {
      return Verifications.defaults();
    }
    var c = p.getJwtCacheConfig();
    return new Verifications(c.getJwtCacheSize() == 0 ? Verifications.DEFAULT_SIZE : c.getJwtCacheSize(),
        c.getJwtMaxTokenSize() == 0 ? Verifications.DEFAULT_MAX_TOKEN_BYTES : c.getJwtMaxTokenSize());
  }

  private static long millis(com.google.protobuf.Duration d) {
    return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
  }

  /** One stream's authentication. */
  private static final class Filter implements HttpFilter {
    private final HttpFilterCallbacks callbacks;
    private final String filterName;
    private final List<Rule> rules;
    private final @Nullable StateRules stateRules;
    private final Map<String, Requirement> named;
    private final List<JwtProvider> all;
    private final boolean bypassCors;
    private int pending;
    private boolean held;
    private @Nullable HttpRequest request;
    private @Nullable Requirement requirement;
    private final Map<JwtProvider, JwtProvider.Found> found = new LinkedHashMap<>();

    Filter(HttpFilterCallbacks callbacks, String filterName, List<Rule> rules, @Nullable StateRules stateRules,
        Map<String, Requirement> named, List<JwtProvider> all, boolean bypassCors) {
      this.callbacks = callbacks;
      this.filterName = filterName;
      this.rules = rules;
      this.stateRules = stateRules;
      this.named = named;
      this.all = all;
      this.bypassCors = bypassCors;
    }

    @Override
    public FilterStatus onRequestHeaders(HttpRequest req, boolean endStream) {
      if (bypassCors && req.method().name().equals("OPTIONS") && req.headers().contains("origin")
          && req.headers().contains("access-control-request-method")) {
        return FilterStatus.CONTINUE;
      }
      Requirement r = select(req);
      if (r == null) {
        return FilterStatus.CONTINUE;
      }
      request = req;
      requirement = r;
      Set<JwtProvider> providers = new LinkedHashSet<>();
      r.providers(providers);
      if (providers.isEmpty()) {
        providers.addAll(all); // allow_missing(_or_failed) alone: any provider's token still counts
      }
      List<JwtProvider> fetch = new ArrayList<>();
      List<Boolean> unknownKid = new ArrayList<>();
      for (JwtProvider p : providers) {
        JwtProvider.Found f = p.find(req.headers(), req.uri());
        if (f == null) {
          continue;
        }
        found.put(p, f);
        var keys = p.keys().current();
        if (keys != null && p.verifications().known(f.token(), keys) != null) {
          continue; // verified against these keys before: its kid is among them
        }
        String kid = JwtProvider.kid(f.token());
        if (keys == null || kid != null && keys.getKeyByKeyId(kid) == null) {
          fetch.add(p);
          unknownKid.add(keys != null);
        }
      }
      if (fetch.isEmpty()) {
        return decide() ? FilterStatus.CONTINUE : FilterStatus.STOP_ITERATION;
      }
      pending = fetch.size();
      held = true;
      for (int i = 0; i < fetch.size(); i++) {
        fetch.get(i).keys().refresh(unknownKid.get(i), callbacks.eventLoop(), this::fetched);
      }
      return FilterStatus.STOP_ITERATION;
    }

    private void fetched() {
      if (--pending == 0 && decide()) {
        callbacks.continueRequest();
      }
    }

    private @Nullable Requirement select(HttpRequest req) {
      if (callbacks.perRouteConfig(filterName) instanceof RouteChoice c) {
        if (c.disabled()) {
          return null;
        }
        if (!c.requirementName().isEmpty()) {
          return named.get(c.requirementName());
        }
      }
      String path = req.uri();
      int q = path.indexOf('?');
      String p = q < 0 ? path : path.substring(0, q);
      for (Rule rule : rules) {
        if (rule.matches(p, req.headers())) {
          return rule.requirement();
        }
      }
      if (stateRules != null) { // checked when no rule matched, as Envoy does
        String v = callbacks.filterState(stateRules.key());
        return v == null ? null : stateRules.requires().get(v);
      }
      return null;
    }

    /** Verifies what was found and judges the requirement; true to let the request go on. */
    private boolean decide() {
      Map<JwtProvider, JwtProvider.Status> results = new HashMap<>();
      Map<JwtProvider, JwtProvider.Verified> ok = new LinkedHashMap<>();
      for (var e : found.entrySet()) {
        JwtProvider.Verified v = e.getValue().ambiguous()
            ? JwtProvider.Verified.failed(JwtProvider.Status.FAILED, "more than one token") // which one counts?
            : e.getKey().verify(e.getValue().token(), e.getKey().keys().usable());
        results.put(e.getKey(), v.status());
        if (v.status() == JwtProvider.Status.OK) {
          ok.put(e.getKey(), v);
        }
      }
      JwtProvider.Status s = requirement.judge(results, !found.isEmpty());
      if (s == JwtProvider.Status.OK) {
        ok.forEach((p, v) -> apply(p, v));
        return true;
      }
      String host = request.headers().get("host");
      String realm = "http://" + (host == null ? "" : host) + request.uri().split("\\?", 2)[0];
      boolean bad = s != JwtProvider.Status.MISSING;
      String body = s == JwtProvider.Status.MISSING ? "Jwt is missing"
          : s == JwtProvider.Status.AUDIENCE ? "Audiences in Jwt are not allowed" : "Jwt verification fails";
      int status = s == JwtProvider.Status.AUDIENCE ? 403 : 401;
      callbacks.sendLocalReply(status, body, null, "-", "jwt_authn_access_denied{" + body.replace(' ', '_') + "}",
          Map.of("www-authenticate", "Bearer realm=\"" + realm + "\"" + (bad ? ", error=\"invalid_token\"" : "")));
      return false;
    }

    /** The claims as a protobuf Struct; {@code space_delimited_claims} ("scope": "a b") become lists. */
    private static com.google.protobuf.Struct payloadStruct(com.nimbusds.jwt.JWTClaimsSet claims,
        Set<String> spaceDelimited) {
      com.google.protobuf.Struct.Builder b = com.google.protobuf.Struct.newBuilder();
      try {
        com.google.protobuf.util.JsonFormat.parser().merge(claims.toString(), b);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return com.google.protobuf.Struct.getDefaultInstance(); // verified JSON that protobuf cannot hold: no payload
      }
      for (String claim : spaceDelimited) {
        com.google.protobuf.Value v = b.getFieldsMap().get(claim);
        if (v != null && v.hasStringValue()) {
          com.google.protobuf.ListValue.Builder list = com.google.protobuf.ListValue.newBuilder();
          for (String part : v.getStringValue().trim().split("\\s+")) {
            list.addValues(com.google.protobuf.Value.newBuilder().setStringValue(part));
          }
          b.putFields(claim, com.google.protobuf.Value.newBuilder().setListValue(list).build());
        }
      }
      return b.build();
    }

    private static String withoutParam(String uri, String param) {
      var decoder = new io.netty.handler.codec.http.QueryStringDecoder(uri);
      var encoder = new io.netty.handler.codec.http.QueryStringEncoder(decoder.rawPath());
      decoder.parameters().forEach((k, vs) -> {
        if (!k.equals(param)) {
          vs.forEach(v -> encoder.addParam(k, v));
        }
      });
      return encoder.toString();
    }

    /** A verified token's effects on the request: removed unless forwarded, its payload and claims as headers. */
    private void apply(JwtProvider p, JwtProvider.Verified v) {
      var h = request.headers();
      JwtProvider.Found f = found.get(p);
      if (!p.forward() && f.header() != null) {
        h.remove(f.header().name());
      }
      if (!p.forward() && f.param() != null) {
        request.setUri(withoutParam(request.uri(), f.param())); // not to the upstream, nor into its logs
      }
      if (p.forwardPayloadHeader() != null) {
        String payload = v.jwt().getParsedParts()[1].toString();
        if (p.padPayload()) {
          payload = Base64.getUrlEncoder().encodeToString(Base64.getUrlDecoder().decode(payload));
        }
        h.set(p.forwardPayloadHeader(), payload);
      }
      if (p.payloadInMetadata() != null) {
        callbacks.setDynamicMetadata(NAMESPACE, v.metadata(() -> com.google.protobuf.Struct.newBuilder()
            .putFields(p.payloadInMetadata(), com.google.protobuf.Value.newBuilder()
                .setStructValue(payloadStruct(v.claims(), p.spaceDelimitedClaims())).build()).build()));
      }
      for (JwtProvider.ClaimToHeader c : p.claimToHeaders()) {
        Object value = v.claims().getClaim(c.claim());
        if (value instanceof String || value instanceof Number || value instanceof Boolean) {
          h.set(c.header(), value.toString());
        }
      }
    }
  }
}
