package io.bowline.core.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.config.ProxyConfig;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.BootstrapLoader;
import org.junit.jupiter.api.Test;

class BootstrapCompilerTest {
  private static final String BASE = """
      static_resources:
        listeners:
        - name: l
          address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: s
                HCM_EXTRA
                route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]}
                http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        clusters:
        - name: c
          CLUSTER_EXTRA
          load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}
      """;

  private static ProxyConfig compile(String hcmExtra, String clusterExtra) throws ConfigException {
    String y = BASE.replace("HCM_EXTRA", hcmExtra.isEmpty() ? "codec_type: AUTO" : hcmExtra)
        .replace("CLUSTER_EXTRA", clusterExtra.isEmpty() ? "type: STATIC" : clusterExtra);
    var b = new BootstrapLoader(false).parse(y, BootstrapLoader.Format.YAML).bootstrap();
    return BootstrapCompiler.compile(b, "", "", new CompileContext(new Stats(), FilterRegistry.empty(), 1000, 1000));
  }

  @Test
  void defaults() throws Exception {
    HcmConfig h = (HcmConfig) compile("", "").listeners().get(0).filterChains().get(0).terminal();
    assertEquals(60 * 1024, h.maxRequestHeadersBytes());
    assertEquals(100, h.maxHeadersCount());
    assertEquals(300_000, h.streamIdleTimeoutMs());
    assertEquals(10_000, h.requestHeadersTimeoutMs(), "safe default (HOSTILE-INPUTS), Envoy's is disabled");
    assertEquals("envoy", h.serverName().toString());
    assertEquals(1000, h.delayedCloseTimeoutMs(), "Envoy's delayed_close_timeout");
    assertEquals(0, ((HcmConfig) compile("delayed_close_timeout: 0s", "").listeners().get(0).filterChains().get(0)
        .terminal()).delayedCloseTimeoutMs());
    assertEquals(io.bowline.core.config.SocketInterfaceConfig.DEFAULT, compile("", "").socketInterface(), "epoll");
    assertEquals(5000, compile("", "").clusters().get("c").connectTimeoutMs());
    assertEquals(100, compile("", "").clusters().get("c").maxResponseHeadersCount(), "Envoy's max_headers_count");
  }

  @Test
  void clusterMaxHeadersCountLimitsResponses() throws Exception {
    String indent = " ".repeat(4); // CLUSTER_EXTRA's column in BASE
    String options = "type: STATIC\n" + indent + "typed_extension_protocol_options:\n" + indent
        + "  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n" + indent
        + "    \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n" + indent
        + "    explicit_http_config: {http_protocol_options: {}}\n" + indent
        + "    common_http_protocol_options: {max_headers_count: COUNT}";
    assertEquals(40, compile("", options.replace("COUNT", "40")).clusters().get("c").maxResponseHeadersCount());
    ConfigException e = assertThrows(ConfigException.class, () -> compile("", options.replace("COUNT", "0")));
    assertTrue(e.fieldPath().endsWith("common_http_protocol_options.max_headers_count"), e.fieldPath());
  }

  @Test
  void unsupportedFieldIsNamedByPath() {
    ConfigException e = assertThrows(ConfigException.class, () -> compile("add_user_agent: true", ""));
    assertEquals("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.add_user_agent", e.fieldPath());
    assertTrue(e.getMessage().contains("not supported"), e.getMessage());
    ConfigException c = assertThrows(ConfigException.class, () -> compile("", "type: ORIGINAL_DST"));
    assertEquals("static_resources.clusters[0].lb_policy", c.fieldPath(), "ORIGINAL_DST takes CLUSTER_PROVIDED");
    ConfigException agg = assertThrows(ConfigException.class, () -> compile("",
        "cluster_type: {name: envoy.clusters.aggregate}"));
    assertEquals("static_resources.clusters[0].cluster_type", agg.fieldPath());
    ConfigException eds = assertThrows(ConfigException.class, () -> compile("", "type: EDS"));
    assertEquals("static_resources.clusters[0].eds_cluster_config.eds_config", eds.fieldPath());
  }

  @Test
  void routerMustBeLastAndUnknownFiltersAreNamed() {
    String cors = "{name: envoy.filters.http.cors, typed_config: {\"@type\": "
        + "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}";
    ConfigException e = assertThrows(ConfigException.class, () -> compileRaw(BASE.replace("HCM_EXTRA",
        "codec_type: AUTO").replace("CLUSTER_EXTRA", "type: STATIC").replace("http_filters: [", "http_filters: ["
        + cors + ", ")));
    assertTrue(e.getMessage().contains("Cors") && e.fieldPath().endsWith("http_filters[0].typed_config"),
        e.getMessage());
    ConfigException last = assertThrows(ConfigException.class, () -> compileRaw(BASE.replace("HCM_EXTRA",
        "codec_type: AUTO").replace("CLUSTER_EXTRA", "type: STATIC").replace("}}]}]}", "}}]}]}").replace(
        "http_filters: [{name: envoy.filters.http.router", "http_filters: [" + cors.replace("}}", "}}") + "]\n"
        + "                #{name: envoy.filters.http.router")));
    assertTrue(last.getMessage().contains("router"), last.getMessage());
  }

  /** Envoy's io_uring switch: the default socket interface as a bootstrap extension, with io_uring_options. */
  @Test
  void ioUringIsAskedForAsInEnvoy() throws Exception {
    String ext = """
        bootstrap_extensions:
        - name: envoy.extensions.network.socket_interface.default_socket_interface
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.network.socket_interface.v3.DefaultSocketInterface
            OPTIONS
        default_socket_interface: NAME
        """;
    String base = BASE.replace("HCM_EXTRA", "codec_type: AUTO").replace("CLUSTER_EXTRA", "type: STATIC");
    java.util.function.BiFunction<String, String, String> y = (options, name) ->
        ext.replace("OPTIONS", options).replace("NAME", name) + base;
    String dsi = "envoy.extensions.network.socket_interface.default_socket_interface";
    var on = compileRaw(y.apply("io_uring_options: {io_uring_size: 1000}", dsi)).socketInterface();
    assertTrue(on.ioUring());
    assertEquals(1000, on.ringSize());
    assertEquals(new io.bowline.core.config.SocketInterfaceConfig(true, 0),
        compileRaw(y.apply("io_uring_options: {}", "\"\"")).socketInterface(), "the default name");
    assertEquals(io.bowline.core.config.SocketInterfaceConfig.DEFAULT,
        compileRaw(y.apply("# no io_uring_options", dsi)).socketInterface(), "no io_uring_options: epoll, as Envoy");
    ConfigException sq = assertThrows(ConfigException.class,
        () -> compileRaw(y.apply("io_uring_options: {enable_submission_queue_polling: true}", dsi)));
    assertEquals("bootstrap_extensions[0].typed_config.io_uring_options.enable_submission_queue_polling",
        sq.fieldPath());
    ConfigException unknown = assertThrows(ConfigException.class,
        () -> compileRaw(y.apply("io_uring_options: {}", "my.socket.interface")));
    assertEquals("default_socket_interface", unknown.fieldPath());
    ConfigException other = assertThrows(ConfigException.class, () -> compileRaw(ext.replace(
        "envoy.extensions.network.socket_interface.v3.DefaultSocketInterface",
        "envoy.extensions.filters.http.router.v3.Router").replace("OPTIONS", "").replace("NAME", dsi) + base));
    assertEquals("bootstrap_extensions[0].typed_config", other.fieldPath());
  }

  /** Istio's rendered bootstrap carries the internal_listener extension; pilot-agent's lenient flag skips it. */
  @Test
  void istiosBootstrapExtensionsAreSkippedWhenLenient() throws Exception {
    String y = """
        bootstrap_extensions:
        - name: envoy.bootstrap.internal_listener
          typed_config:
            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
            type_url: type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener
            value: {buffer_size_kb: 64}
        """ + BASE.replace("HCM_EXTRA", "codec_type: AUTO").replace("CLUSTER_EXTRA", "type: STATIC");
    ConfigException strict = assertThrows(ConfigException.class, () -> compileRaw(y));
    assertEquals("bootstrap_extensions[0].typed_config", strict.fieldPath());
    assertTrue(strict.getMessage().contains("envoy.bootstrap.internal_listener"), strict.getMessage());
    var b = new BootstrapLoader(false).parse(y, BootstrapLoader.Format.YAML).bootstrap();
    CompileContext lenient = new CompileContext(new Stats(), FilterRegistry.empty(), 1000, 1000);
    lenient.allowUnsupportedStaticFields(true);
    assertEquals(io.bowline.core.config.SocketInterfaceConfig.DEFAULT,
        BootstrapCompiler.compile(b, "", "", lenient).socketInterface());
    assertTrue(lenient.warnings().stream().anyMatch(w -> w.startsWith("bootstrap_extensions[0].typed_config")),
        lenient.warnings().toString());
  }

  private static ProxyConfig compileRaw(String y) throws ConfigException {
    var b = new BootstrapLoader(false).parse(y, BootstrapLoader.Format.YAML).bootstrap();
    return BootstrapCompiler.compile(b, "", "", new CompileContext(new Stats(), FilterRegistry.empty(), 1000, 1000));
  }

  @Test
  void staticRoutesMustNameKnownClustersUnlessValidationIsOff() throws Exception {
    String y = BASE.replace("HCM_EXTRA", "codec_type: AUTO").replace("CLUSTER_EXTRA", "type: STATIC")
        .replace("route: {cluster: c}", "route: {cluster: nope}");
    ConfigException e = assertThrows(ConfigException.class, () -> compileRaw(y));
    assertTrue(e.fieldPath().endsWith("route_config.virtual_hosts[0].routes[0]"), e.fieldPath());
    assertTrue(e.getMessage().contains("unknown cluster 'nope'"), e.getMessage());
    compileRaw(y.replace("route_config: {", "route_config: {validate_clusters: false, "));
  }

  @Test
  void dnsLookupFamily() throws Exception {
    var v4 = java.net.InetAddress.getByName("10.0.0.1");
    var v6 = java.net.InetAddress.getByName("::1");
    java.net.InetAddress[] both = {v4, v6};
    assertEquals(java.util.List.of(v6), io.bowline.core.upstream.ClusterTestAccess.byFamily(both, "AUTO"));
    assertEquals(java.util.List.of(v4), io.bowline.core.upstream.ClusterTestAccess.byFamily(both, "V4_ONLY"));
    assertEquals(java.util.List.of(v4), io.bowline.core.upstream.ClusterTestAccess.byFamily(both, "V4_PREFERRED"));
  }

  @Test
  void badRegexAndStaticHostnameAreRejected() {
    ConfigException e = assertThrows(ConfigException.class, () -> {
      String y = BASE.replace("HCM_EXTRA", "codec_type: AUTO").replace("CLUSTER_EXTRA", "type: STATIC")
          .replace("address: 127.0.0.1, port_value: 1", "address: example.com, port_value: 1");
      var b = new BootstrapLoader(false).parse(y, BootstrapLoader.Format.YAML).bootstrap();
      BootstrapCompiler.compile(b, "", "", new CompileContext(new Stats(), FilterRegistry.empty(), 1, 1));
    });
    assertTrue(e.fieldPath().endsWith("socket_address.address"), e.fieldPath());
  }

  /** Several cluster fields, each on its own line at CLUSTER_EXTRA's indentation. */
  private static String clusterLines(String... lines) {
    int at = BASE.indexOf("CLUSTER_EXTRA");
    String indent = " ".repeat(at - BASE.lastIndexOf('\n', at) - 1);
    return String.join("\n" + indent, lines);
  }

  @Test
  void istioWarmupAndLeastRequestSettings() throws Exception {
    var c = compile("", clusterLines("type: STATIC", "lb_policy: LEAST_REQUEST",
        "least_request_lb_config: {active_request_bias: {default_value: 0.5, runtime_key: b}, slow_start_config: "
            + "{slow_start_window: 60s, aggression: {default_value: 2, runtime_key: a}, min_weight_percent: "
            + "{value: 20}}}")).clusters().get("c");
    assertEquals(0.5, c.activeRequestBias());
    assertEquals(new io.bowline.core.config.ClusterConfig.SlowStart(60_000, 2.0, 20.0), c.slowStart());
    var rr = compile("", clusterLines("type: STATIC",
        "round_robin_lb_config: {slow_start_config: {slow_start_window: 30s}}")).clusters().get("c");
    assertEquals(new io.bowline.core.config.ClusterConfig.SlowStart(30_000, 1.0, 10.0), rr.slowStart());
    ConfigException e = assertThrows(ConfigException.class, () -> compile("", clusterLines("type: STATIC",
        "least_request_lb_config: {locality_lb_config: {zone_aware_lb_config: {}}}")));
    assertEquals("static_resources.clusters[0].least_request_lb_config.locality_lb_config", e.fieldPath());
  }

  /**
   * --allow-unknown-static-fields: an unsupported field, an extension type bowline's parser does not know and an HTTP
   * filter it cannot run are each a warning naming the path, and the rest of the bootstrap is compiled.
   */
  @Test
  void allowUnknownStaticFieldsTurnsWhatIsUnsupportedIntoWarnings() throws Exception {
    String y = BASE.replace("HCM_EXTRA", "add_user_agent: true")
        .replace("http_filters: [", "http_filters: [{name: envoy.filters.http.compressor, typed_config: {\"@type\": "
            + "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor}}, ")
        .replace("CLUSTER_EXTRA", "type: STATIC\n    lb_subset_config: {fallback_policy: ANY_ENDPOINT}");
    assertThrows(ConfigException.class, () -> new BootstrapLoader(false).parse(y, BootstrapLoader.Format.YAML),
        "without the flag the unknown extension type is refused");
    var loaded = new BootstrapLoader(true).parse(y, BootstrapLoader.Format.YAML);
    assertTrue(loaded.warnings().stream().anyMatch(w -> w.contains("http_filters[0].typed_config.@type")
        && w.contains("Compressor")), loaded.warnings().toString());
    assertThrows(ConfigException.class, () -> BootstrapCompiler.compile(loaded.bootstrap(), "", "",
        new CompileContext(new Stats(), FilterRegistry.empty(), 1000, 1000)), "not lenient: refused");
    CompileContext ctx = new CompileContext(new Stats(), FilterRegistry.empty(), 1000, 1000);
    ctx.allowUnsupportedStaticFields(true);
    ProxyConfig config = BootstrapCompiler.compile(loaded.bootstrap(), "", "", ctx);
    assertEquals(1, config.listeners().size());
    assertTrue(config.clusters().containsKey("c"));
    String warnings = String.join("\n", ctx.warnings());
    assertTrue(warnings.contains("static_resources.clusters[0].lb_subset_config: not supported"), warnings);
    assertTrue(warnings.contains("typed_config.add_user_agent: not supported"), warnings);
    assertTrue(warnings.contains("http_filters[0]: HTTP filter envoy.filters.http.compressor"), warnings);
  }
}
