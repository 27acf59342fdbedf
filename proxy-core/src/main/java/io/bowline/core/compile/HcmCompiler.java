package io.bowline.core.compile;

import io.bowline.core.config.RouteSource;
import io.bowline.core.config.HcmConfig;
import io.bowline.core.config.RequestIdConfig;
import io.bowline.core.config.HcmStats;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code http_connection_manager} into {@link HcmConfig}. Defaults are Envoy's, except the ones
 * ../shared/HOSTILE-INPUTS.md calls unsafe for untrusted traffic (request_headers_timeout 10 s, path normalisation
 * and slash merging on, escaped slashes unescaped and redirected, HTTP/2 windows 64 KiB / 1 MiB); README lists them.
 */
final class HcmCompiler {
  static final String ROUTER = "envoy.extensions.filters.http.router.v3.Router";

  private HcmCompiler() {}

  static HcmConfig compile(HttpConnectionManager h, String path, CompileContext ctx,
      io.bowline.core.filter.ListenerContext listener) throws ConfigException {
    Fields.allow(h, path, "stat_prefix", "codec_type", "route_config", "http_filters", "use_remote_address",
        "xff_num_trusted_hops", "internal_address_config", "generate_request_id", "server_name", "upgrade_configs",
        "common_http_protocol_options", "max_request_headers_kb", "stream_idle_timeout", "request_timeout",
        "request_headers_timeout", "http2_protocol_options", "normalize_path", "merge_slashes",
        "path_with_escaped_slashes_action", "access_log", "http_protocol_options", "rds", "tracing",
        "forward_client_cert_details", "set_current_client_cert_details", "request_id_extension",
        "preserve_external_request_id", "always_set_request_id_in_response", "delayed_close_timeout");
    RequestIdConfig requestId = TracingCompiler.requestId(h, path); // checked even when nothing is traced
    var h1 = h.getHttpProtocolOptions();
    Fields.allow(h1, path + ".http_protocol_options", "accept_http_10", "default_host_for_http_10", "enable_trailers");
    if (h.getStatPrefix().isEmpty()) {
      throw new ConfigException(path + ".stat_prefix", "required");
    }
    if (!h.hasRouteConfig() && !h.hasRds()) {
      throw new ConfigException(path + ".route_config", "route_config or rds is required");
    }
    HcmConfig.CodecType codec = switch (h.getCodecType()) {
      case AUTO -> HcmConfig.CodecType.AUTO;
      case HTTP1 -> HcmConfig.CodecType.HTTP1;
      case HTTP2 -> HcmConfig.CodecType.HTTP2;
      default -> throw new ConfigException(path + ".codec_type", h.getCodecType() + " is not supported by bowline yet");
    };
    RouteSource routes;
    if (h.hasRds()) {
      Fields.allow(h.getRds(), path + ".rds", "config_source", "route_config_name");
      ConfigSources.requireAds(h.getRds().getConfigSource(), path + ".rds.config_source");
      if (h.getRds().getRouteConfigName().isEmpty()) {
        throw new ConfigException(path + ".rds.route_config_name", "required");
      }
      routes = ctx.rds(h.getRds().getRouteConfigName(), path + ".rds");
      routes.countUnder(ctx.stats().scope("http." + h.getStatPrefix() + "."));
    } else {
      var table = RouteCompiler.compile(h.getRouteConfig(), path + ".route_config", ctx.filters(), ctx.stats());
      // Envoy validates a static route table's clusters unless validate_clusters is false
      if (!h.getRouteConfig().hasValidateClusters() || h.getRouteConfig().getValidateClusters().getValue()) {
        ctx.validateClusters(table, path + ".route_config");
      }
      routes = RouteSource.fixed(table);
    }
    List<HttpFilterProvider> filters = new ArrayList<>();
    if (h.getHttpFiltersCount() == 0) {
      throw new ConfigException(path + ".http_filters", "the router filter is required as the last filter");
    }
    for (int i = 0; i < h.getHttpFiltersCount(); i++) {
      HttpFilter f = h.getHttpFilters(i);
      String fp = path + ".http_filters[" + i + "]";
      Fields.allow(f, fp, "name", "typed_config", "is_optional", "disabled");
      boolean last = i == h.getHttpFiltersCount() - 1;
      String type = f.hasTypedConfig() ? Fields.typeName(f.getTypedConfig()) : null;
      boolean router = ROUTER.equals(type) || (type == null && f.getName().equals("envoy.filters.http.router"));
      if (router) {
        if (!last) {
          throw new ConfigException(fp, "the router must be the last HTTP filter");
        }
        if (f.hasTypedConfig()) {
          Fields.allow(Fields.unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.router.v3.Router
              .class, fp + ".typed_config"), fp + ".typed_config");
        }
        continue;
      }
      if (last) {
        throw new ConfigException(fp, "the last HTTP filter must be envoy.filters.http.router");
      }
      if (type == null) {
        throw new ConfigException(fp + ".typed_config", "required for " + f.getName());
      }
      if (f.getDisabled()) {
        continue;
      }
      try {
        filters.add(ctx.filters().create(f.getTypedConfig(), new HttpFilterFactory.FactoryContext(
            ctx.stats().scope("http." + h.getStatPrefix() + "."), fp, f.getName(), ctx.clusterDirectory(),
            listener)));
      } catch (ConfigException e) {
        String configType = io.bowline.core.filter.FilterRegistry.configTypeName(f.getTypedConfig());
        if (f.getIsOptional() && ctx.filters().forType(configType) == null) {
          continue; // Envoy skips an optional filter it does not know
        }
        if (ctx.filters().forType(configType) == null && Fields.ignored(fp, "HTTP filter " + f.getName() + " ("
            + configType + ") is not supported by bowline yet; the chain runs without it")) {
          continue;
        }
        throw e;
      }
    }
    boolean websocket = false;
    for (int i = 0; i < h.getUpgradeConfigsCount(); i++) {
      var u = h.getUpgradeConfigs(i);
      String up = path + ".upgrade_configs[" + i + "]";
      Fields.allow(u, up, "upgrade_type", "enabled");
      if (!u.getUpgradeType().equalsIgnoreCase("websocket")) {
        throw new ConfigException(up + ".upgrade_type", "only websocket upgrades are supported, got "
            + u.getUpgradeType());
      }
      websocket = !u.hasEnabled() || u.getEnabled().getValue();
    }
    HttpProtocolOptions common = h.getCommonHttpProtocolOptions();
    Fields.allow(common, path + ".common_http_protocol_options", "idle_timeout", "max_headers_count",
        "max_connection_duration", "max_stream_duration", "headers_with_underscores_action");
    if (common.getHeadersWithUnderscoresActionValue() != 0) {
      throw new ConfigException(path + ".common_http_protocol_options.headers_with_underscores_action",
          "not supported by bowline yet");
    }
    long idle = common.hasIdleTimeout() ? Fields.millis(common.getIdleTimeout()) : 3_600_000;
    int maxHeaders = common.hasMaxHeadersCount() ? common.getMaxHeadersCount().getValue() : 100;
    int headersKb = h.hasMaxRequestHeadersKb() ? h.getMaxRequestHeadersKb().getValue() : 60;
    if (headersKb < 1 || headersKb > 8192) {
      throw new ConfigException(path + ".max_request_headers_kb", "must be in [1, 8192], got " + headersKb);
    }
    Http2ProtocolOptions h2 = h.getHttp2ProtocolOptions();
    Fields.allow(h2, path + ".http2_protocol_options", "max_concurrent_streams", "initial_stream_window_size",
        "initial_connection_window_size");
    HcmConfig.Http2Settings h2s = new HcmConfig.Http2Settings(
        h2.hasMaxConcurrentStreams() ? h2.getMaxConcurrentStreams().getValue() : 1024,
        h2.hasInitialStreamWindowSize() ? h2.getInitialStreamWindowSize().getValue() : 64 * 1024,
        h2.hasInitialConnectionWindowSize() ? h2.getInitialConnectionWindowSize().getValue() : 1024 * 1024);
    HcmConfig.EscapedSlashes escaped = switch (h.getPathWithEscapedSlashesAction()) {
      case IMPLEMENTATION_SPECIFIC_DEFAULT -> HcmConfig.EscapedSlashes.UNESCAPE_AND_REDIRECT;
      case KEEP_UNCHANGED -> HcmConfig.EscapedSlashes.KEEP_UNCHANGED;
      case REJECT_REQUEST -> HcmConfig.EscapedSlashes.REJECT_REQUEST;
      case UNESCAPE_AND_REDIRECT -> HcmConfig.EscapedSlashes.UNESCAPE_AND_REDIRECT;
      case UNESCAPE_AND_FORWARD -> HcmConfig.EscapedSlashes.UNESCAPE_AND_FORWARD;
      default -> throw new ConfigException(path + ".path_with_escaped_slashes_action", "unknown value");
    };
    HcmConfig.PathPolicy pathPolicy = new HcmConfig.PathPolicy(
        !h.hasNormalizePath() || h.getNormalizePath().getValue(), h.getMergeSlashes(),
        escaped);
    List<io.bowline.core.accesslog.AccessLogger> logs = AccessLogs.compile(h.getAccessLogList(),
        path + ".access_log", ctx);
    boolean filtersLog = filters.stream().anyMatch(HttpFilterProvider::logs);
    return new HcmConfig(h.getStatPrefix(), codec, routes, filters, h.getUseRemoteAddress().getValue(),
        h.getXffNumTrustedHops(), requestId,
        io.netty.util.AsciiString.of(h.getServerName().isEmpty() ? "envoy" : h.getServerName()), websocket, idle,
        maxHeaders, headersKb * 1024,
        h.hasStreamIdleTimeout() ? Fields.millis(h.getStreamIdleTimeout()) : 300_000,
        h.hasRequestTimeout() ? Fields.millis(h.getRequestTimeout()) : 0,
        h.hasRequestHeadersTimeout() ? Fields.millis(h.getRequestHeadersTimeout()) : 10_000,
        common.hasMaxConnectionDuration() ? Fields.millis(common.getMaxConnectionDuration()) : 0,
        common.hasMaxStreamDuration() ? Fields.millis(common.getMaxStreamDuration()) : 0,
        h2s, pathPolicy, h1.getAcceptHttp10(), h1.getDefaultHostForHttp10(), h1.getEnableTrailers(), internalAddresses(h, path), logs, HcmStats.of(ctx.stats().scope("http." + h.getStatPrefix() + ".")),
        filtersLog, io.bowline.core.accesslog.LoggedRequestHeaders.of(logs, filtersLog),
        TracingCompiler.compile(h, path + ".tracing", ctx,
            listener.direction() == io.bowline.core.filter.ListenerContext.Direction.OUTBOUND, requestId),
        clientCert(h, path),
        // Envoy's default: a second for the peer to read what it was sent and close first
        h.hasDelayedCloseTimeout() ? Fields.millis(h.getDelayedCloseTimeout()) : 1000);
  }

  /**
   * internal_address_config: the addresses whose requests are internal (x-envoy-internal, x-envoy-* controls kept).
   * Without it, Envoy's classic set: RFC 1918, loopback and IPv6 unique-local addresses.
   */
  private static List<io.bowline.core.listener.CidrRange> internalAddresses(HttpConnectionManager h, String path)
      throws ConfigException {
    if (!h.hasInternalAddressConfig()) {
      return DEFAULT_INTERNAL;
    }
    var c = h.getInternalAddressConfig();
    String cp = path + ".internal_address_config";
    Fields.allow(c, cp, "cidr_ranges", "unix_sockets");
    List<io.bowline.core.listener.CidrRange> out = new ArrayList<>();
    for (int i = 0; i < c.getCidrRangesCount(); i++) {
      var r = c.getCidrRanges(i);
      out.add(io.bowline.core.listener.CidrRange.of(ListenerCompiler.literal(r.getAddressPrefix(),
          cp + ".cidr_ranges[" + i + "].address_prefix"), r.getPrefixLen().getValue()));
    }
    return List.copyOf(out);
  }

  private static final List<io.bowline.core.listener.CidrRange> DEFAULT_INTERNAL = List.of(
      cidr("10.0.0.0", 8), cidr("172.16.0.0", 12), cidr("192.168.0.0", 16), cidr("127.0.0.0", 8),
      cidr("fd00::", 8), cidr("::1", 128));

  private static io.bowline.core.listener.CidrRange cidr(String ip, int len) {
    return new io.bowline.core.listener.CidrRange(io.netty.util.NetUtil.createByteArrayFromIpAddressString(ip), len);
  }


  /** {@code forward_client_cert_details} and {@code set_current_client_cert_details}. */
  private static io.bowline.core.http.ClientCertHeader.Config clientCert(HttpConnectionManager h, String path)
      throws ConfigException {
    var mode = switch (h.getForwardClientCertDetails()) {
      case SANITIZE -> io.bowline.core.http.ClientCertHeader.Mode.SANITIZE;
      case FORWARD_ONLY -> io.bowline.core.http.ClientCertHeader.Mode.FORWARD_ONLY;
      case APPEND_FORWARD -> io.bowline.core.http.ClientCertHeader.Mode.APPEND_FORWARD;
      case SANITIZE_SET -> io.bowline.core.http.ClientCertHeader.Mode.SANITIZE_SET;
      case ALWAYS_FORWARD_ONLY -> io.bowline.core.http.ClientCertHeader.Mode.ALWAYS_FORWARD_ONLY;
      default -> throw new ConfigException(path + ".forward_client_cert_details", "unknown value");
    };
    var d = h.getSetCurrentClientCertDetails();
    Fields.allow(d, path + ".set_current_client_cert_details", "subject", "cert", "chain", "dns", "uri");
    return new io.bowline.core.http.ClientCertHeader.Config(mode, d.hasSubject() && d.getSubject().getValue(),
        d.getCert(), d.getChain(), d.getDns(), d.getUri());
  }
}
