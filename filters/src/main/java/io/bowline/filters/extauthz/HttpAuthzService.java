package io.bowline.filters.extauthz;

import io.bowline.core.compile.HeaderMatchers;
import io.bowline.core.filter.ClusterDirectory;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.HttpService;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * ext_authz's HTTP service: the check is the original request's method and path (after {@code path_prefix}) with
 * no body, carrying the headers {@code authorization_request.allowed_headers} lets through (Authorization, Method,
 * Path and Content-Length always) plus {@code headers_to_add}; a 200 allows the request and copies the headers
 * {@code allowed_upstream_headers} names onto it; any other status denies it with that status, the body, and the
 * headers {@code allowed_client_headers} names (by default all but the hop-by-hop ones). Sent from the JDK's client,
 * off the event loop, to a host of the cluster.
 */
final class HttpAuthzService {
  private static final java.util.concurrent.Executor SENDS = java.util.concurrent.Executors.newSingleThreadExecutor(
      r -> {
        Thread t = new Thread(r, "bowline-ext-authz-http");
        t.setDaemon(true);
        return t;
      });
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  /** Headers the JDK's client sets itself or refuses to send. */
  private static final Set<String> RESTRICTED = Set.of("host", "connection", "content-length", "expect", "upgrade",
      "keep-alive", "transfer-encoding", "te", "trailer", "proxy-connection");
  private static final Set<String> ALWAYS = Set.of("authorization", "method", "path", "content-length");

  /** The service's verdict, or the error that kept it from giving one. */
  record Answer(int status, String body, Map<String, String> upstreamHeaders, Map<String, String> clientHeaders,
      @Nullable String error) {}

  private final String cluster;
  private final String pathPrefix;
  private final long timeoutMs;
  private final ClusterDirectory clusters;
  private final List<HeaderMatcher> allowedHeaders;
  private final Map<String, String> headersToAdd;
  private final List<HeaderMatcher> allowedUpstream;
  private final List<HeaderMatcher> allowedClient;

  private HttpAuthzService(String cluster, String pathPrefix, long timeoutMs, ClusterDirectory clusters,
      List<HeaderMatcher> allowedHeaders, Map<String, String> headersToAdd, List<HeaderMatcher> allowedUpstream,
      List<HeaderMatcher> allowedClient) {
    this.cluster = cluster;
    this.pathPrefix = pathPrefix;
    this.timeoutMs = timeoutMs;
    this.clusters = clusters;
    this.allowedHeaders = allowedHeaders;
    this.headersToAdd = headersToAdd;
    this.allowedUpstream = allowedUpstream;
    this.allowedClient = allowedClient;
  }

  static HttpAuthzService compile(HttpService hs, long timeoutMs, ClusterDirectory clusters, String path)
      throws ConfigException {
    var req = hs.getAuthorizationRequest();
    Map<String, String> add = new LinkedHashMap<>();
    for (var h : req.getHeadersToAddList()) {
      add.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue());
    }
    var resp = hs.getAuthorizationResponse();
    return new HttpAuthzService(hs.getServerUri().getCluster(), hs.getPathPrefix(), timeoutMs, clusters,
        matchers(req.getAllowedHeaders().getPatternsList(), path + ".authorization_request.allowed_headers.patterns"),
        add, matchers(resp.getAllowedUpstreamHeaders().getPatternsList(),
            path + ".authorization_response.allowed_upstream_headers.patterns"),
        matchers(resp.getAllowedClientHeaders().getPatternsList(),
            path + ".authorization_response.allowed_client_headers.patterns"));
  }

  private static List<HeaderMatcher> matchers(List<io.envoyproxy.envoy.type.matcher.v3.StringMatcher> list,
      String path) throws ConfigException {
    List<HeaderMatcher> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      out.add(HeaderMatchers.ofValue("header", list.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  private static boolean any(List<HeaderMatcher> ms, String name) {
    for (HeaderMatcher m : ms) {
      if (m.matchesValue(name)) {
        return true;
      }
    }
    return false;
  }

  /** Asks the service (with the start of the body, if given); {@code done} is called once, on a client thread. */
  void check(HttpRequest request, byte @Nullable [] body, Consumer<Answer> done) {
    List<InetSocketAddress> hosts = clusters.hosts(cluster);
    if (hosts.isEmpty()) {
      done.accept(new Answer(0, "", Map.of(), Map.of(), "cluster " + cluster + " has no hosts"));
      return;
    }
    String uri = request.uri();
    java.net.http.HttpRequest.Builder b;
    try {
      b = java.net.http.HttpRequest.newBuilder(URI.create("http://"
          + io.netty.util.NetUtil.toSocketAddressString(hosts.get(0)) + pathPrefix + uri))
          .timeout(Duration.ofMillis(timeoutMs))
          .method(request.method().name(), body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
              : java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
    } catch (IllegalArgumentException e) {
      done.accept(new Answer(0, "", Map.of(), Map.of(), "cannot form the check request: " + e.getMessage()));
      return;
    }
    request.headers().forEach(e -> {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!RESTRICTED.contains(name) && (ALWAYS.contains(name) || name.equals(ExtAuthzFactory.PARTIAL_BODY)
          || any(allowedHeaders, name))) {
        b.header(name, e.getValue());
      }
    });
    headersToAdd.forEach(b::header);
    java.net.http.HttpRequest checkRequest = b.build();
    // sent from the client's own executor: its first use starts threads and loads classes, not on an event loop
    java.util.concurrent.CompletableFuture.supplyAsync(() -> HTTP.sendAsync(checkRequest,
        HttpResponse.BodyHandlers.ofString()), SENDS).thenCompose(f -> f).whenComplete((r, err) -> {
      if (err != null) {
        done.accept(new Answer(0, "", Map.of(), Map.of(), err.toString()));
        return;
      }
      Map<String, String> upstream = new LinkedHashMap<>();
      Map<String, String> client = new LinkedHashMap<>();
      r.headers().map().forEach((name, values) -> {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith(":") || RESTRICTED.contains(n) || values.isEmpty()) {
          return;
        }
        if (any(allowedUpstream, n)) {
          upstream.put(n, values.get(0));
        }
        if (allowedClient.isEmpty() || any(allowedClient, n)) {
          client.put(n, values.get(0));
        }
      });
      done.accept(new Answer(r.statusCode(), r.body(), upstream, client, null));
    });
  }
}
