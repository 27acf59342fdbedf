package io.bowline.core.compile;

import io.bowline.core.config.FilterChainConfig;
import io.bowline.core.config.ListenerConfig;
import io.bowline.core.config.ListenerStats;
import io.bowline.core.config.NetworkFilter;
import io.bowline.core.config.TcpProxyConfig;
import io.bowline.core.listener.CidrRange;
import io.bowline.core.listener.FilterChainMatch;
import io.bowline.core.listener.FilterChainSelector;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.CidrRange.Builder;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** {@code config.listener.v3.Listener} into {@link ListenerConfig}. */
public final class ListenerCompiler {
  private static final String HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  private static final String TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

  private ListenerCompiler() {}

  public static ListenerConfig compile(Listener l, String path, CompileContext ctx) throws ConfigException {
    Fields.allow(l, path, "name", "address", "filter_chains", "default_filter_chain", "listener_filters",
        "per_connection_buffer_limit_bytes", "traffic_direction", "stat_prefix", "listener_filters_timeout",
        "continue_on_listener_filters_timeout",
        "access_log");
    InetSocketAddress address = socketAddress(l.getAddress(), path + ".address");
    String statName = !l.getStatPrefix().isEmpty() ? l.getStatPrefix() : addressStatName(address);
    // Envoy names an unnamed listener with a random UUID; stats still use the address
    String name = l.getName().isEmpty() ? java.util.UUID.randomUUID().toString() : l.getName();
    boolean tlsInspector = false;
    boolean httpInspector = false;
    java.util.function.IntPredicate tlsInspectorOff = port -> false;
    java.util.function.IntPredicate httpInspectorOff = port -> false;
    var listener = ctx.listenerContext(switch (l.getTrafficDirection()) {
      case INBOUND -> io.bowline.core.filter.ListenerContext.Direction.INBOUND;
      case OUTBOUND -> io.bowline.core.filter.ListenerContext.Direction.OUTBOUND;
      default -> io.bowline.core.filter.ListenerContext.Direction.UNSPECIFIED;
    });
    for (int i = 0; i < l.getListenerFiltersCount(); i++) {
      ListenerFilter f = l.getListenerFilters(i);
      String fp = path + ".listener_filters[" + i + "]";
      Fields.allow(f, fp, "name", "typed_config", "filter_disabled");
      String type = f.hasTypedConfig() ? Fields.typeName(f.getTypedConfig()) : f.getName();
      java.util.function.IntPredicate off = f.hasFilterDisabled()
          ? disabledFor(f.getFilterDisabled(), fp + ".filter_disabled") : port -> false;
      switch (type) {
        case "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", "envoy.filters.listener.tls_inspector"
            -> {
          tlsInspector = true;
          tlsInspectorOff = off;
        }
        case "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
            "envoy.filters.listener.http_inspector" -> {
          httpInspector = true;
          httpInspectorOff = off;
        }
        default -> throw new ConfigException(fp, "listener filter " + type + " is not supported by bowline yet");
      }
    }
    if (l.getFilterChainsCount() == 0 && !l.hasDefaultFilterChain()) {
      throw new ConfigException(path + ".filter_chains", "at least one filter chain is required");
    }
    List<FilterChainConfig> chains = new ArrayList<>();
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      chains.add(chain(l.getFilterChains(i), path + ".filter_chains[" + i + "]", ctx, listener));
    }
    for (int i = 0; i < chains.size(); i++) {
      for (int j = 0; j < i; j++) {
        if (chains.get(i).match().equals(chains.get(j).match())) {
          throw new ConfigException(path + ".filter_chains[" + i + "].filter_chain_match",
              "same filter_chain_match as filter_chains[" + j + "]");
        }
      }
    }
    FilterChainConfig dflt = l.hasDefaultFilterChain()
        ? chain(l.getDefaultFilterChain(), path + ".default_filter_chain", ctx, listener) : null;
    int limit = l.hasPerConnectionBufferLimitBytes() ? l.getPerConnectionBufferLimitBytes().getValue() : 1024 * 1024;
    return new ListenerConfig(name, address, chains, new FilterChainSelector(chains, dflt), tlsInspector,
        httpInspector, Math.max(limit, 1024),
        l.hasListenerFiltersTimeout() ? Fields.millis(l.getListenerFiltersTimeout()) : 15_000,
        l.getContinueOnListenerFiltersTimeout(), tlsInspectorOff, httpInspectorOff,
        ListenerStats.of(ctx.stats().scope("listener." + statName + "."),
            chains.stream().anyMatch(c -> c.tls() != null) || dflt != null && dflt.tls() != null),
        AccessLogs.compile(l.getAccessLogList(), path + ".access_log", ctx));
  }

  /**
   * A listener filter's {@code filter_disabled}: the destination ports on which it does not run (Istio turns its
   * inspectors off for ports it knows the protocol of). Only the port and the logical combinators are supported.
   */
  static java.util.function.IntPredicate disabledFor(
      io.envoyproxy.envoy.config.listener.v3.ListenerFilterChainMatchPredicate p, String path) throws ConfigException {
    switch (p.getRuleCase()) {
      case ANY_MATCH:
        return port -> true;
      case DESTINATION_PORT_RANGE: {
        int start = (int) p.getDestinationPortRange().getStart();
        int end = (int) p.getDestinationPortRange().getEnd();
        return port -> port >= start && port < end;
      }
      case NOT_MATCH: {
        var inner = disabledFor(p.getNotMatch(), path + ".not_match");
        return inner.negate();
      }
      case OR_MATCH:
      case AND_MATCH: {
        boolean or = p.getRuleCase() == io.envoyproxy.envoy.config.listener.v3.ListenerFilterChainMatchPredicate
            .RuleCase.OR_MATCH;
        var rules = or ? p.getOrMatch().getRulesList() : p.getAndMatch().getRulesList();
        List<java.util.function.IntPredicate> all = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
          all.add(disabledFor(rules.get(i), path + (or ? ".or_match" : ".and_match") + ".rules[" + i + "]"));
        }
        return or ? port -> all.stream().anyMatch(q -> q.test(port))
            : port -> all.stream().allMatch(q -> q.test(port));
      }
      default:
        throw new ConfigException(path, "only destination_port_range, any_match and or/and/not of them are "
            + "supported by bowline yet");
    }
  }

  private static FilterChainConfig chain(FilterChain fc, String path, CompileContext ctx,
      io.bowline.core.filter.ListenerContext listener) throws ConfigException {
    Fields.allow(fc, path, "name", "filter_chain_match", "filters", "transport_socket");
    FilterChainMatch match = match(fc.getFilterChainMatch(), path + ".filter_chain_match");
    if (fc.getFiltersCount() == 0) {
      throw new ConfigException(path + ".filters", "a terminal network filter is required");
    }
    List<io.bowline.core.filter.ConnectionObserverProvider> observers = new ArrayList<>();
    List<io.bowline.core.filter.ConnectionGate> gates = new ArrayList<>();
    for (int i = 0; i < fc.getFiltersCount() - 1; i++) {
      Filter f = fc.getFilters(i);
      String fp = path + ".filters[" + i + "]";
      Fields.allow(f, fp, "name", "typed_config");
      var fctx = new io.bowline.core.filter.HttpFilterFactory.FactoryContext(ctx.stats().scope(""), fp, f.getName(),
          ctx.clusterDirectory(), listener);
      var observer = f.hasTypedConfig() ? ctx.filters().connectionObserver(f.getTypedConfig(), fctx) : null;
      var gate = observer == null && f.hasTypedConfig() ? ctx.filters().connectionGate(f.getTypedConfig(), fctx) : null;
      if (gate != null) {
        gates.add(gate);
        continue;
      }
      if (observer == null) {
        throw new ConfigException(fp, "network filter "
            + (f.hasTypedConfig() ? io.bowline.core.filter.FilterRegistry.configTypeName(f.getTypedConfig())
                : f.getName())
            + " is not supported by bowline yet (istio.stats and rbac are, before a terminal "
            + "http_connection_manager or tcp_proxy)");
      }
      observers.add(observer);
    }
    int last = fc.getFiltersCount() - 1;
    Filter f = fc.getFilters(last);
    String fp = path + ".filters[" + last + "]";
    Fields.allow(f, fp, "name", "typed_config");
    String type = f.hasTypedConfig() ? Fields.typeName(f.getTypedConfig()) : "";
    NetworkFilter terminal = switch (type) {
      case HCM -> HcmCompiler.compile(Fields.unpack(f.getTypedConfig(), HttpConnectionManager.class, fp
          + ".typed_config"), fp + ".typed_config", ctx, listener);
      case TCP_PROXY -> tcpProxy(Fields.unpack(f.getTypedConfig(), TcpProxy.class, fp + ".typed_config"),
          fp + ".typed_config", ctx, observers);
      default -> throw new ConfigException(fp, "network filter " + (type.isEmpty() ? f.getName() : type)
          + " is not supported by bowline yet");
    };
    if (!observers.isEmpty() && !(terminal instanceof TcpProxyConfig)) {
      throw new ConfigException(path + ".filters[0]", "a connection-watching network filter (istio.stats) is "
          + "supported before tcp_proxy only; an HTTP chain takes istio.stats as an HTTP filter");
    }
    boolean h2Alpn = terminal instanceof io.bowline.core.config.HcmConfig;
    return new FilterChainConfig(fc.getName(), match,
        fc.hasTransportSocket() ? TlsCompiler.downstream(fc.getTransportSocket(), path + ".transport_socket") : null,
        terminal, gates);
  }

  private static TcpProxyConfig tcpProxy(TcpProxy t, String path, CompileContext ctx,
      List<io.bowline.core.filter.ConnectionObserverProvider> observers) throws ConfigException {
    Fields.allow(t, path, "stat_prefix", "cluster", "weighted_clusters", "idle_timeout", "access_log");
    if (t.getStatPrefix().isEmpty()) {
      throw new ConfigException(path + ".stat_prefix", "required");
    }
    List<TcpProxyConfig.WeightedCluster> clusters = new ArrayList<>();
    int total = 0;
    if (t.hasWeightedClusters()) {
      var wc = t.getWeightedClusters();
      for (int i = 0; i < wc.getClustersCount(); i++) {
        var c = wc.getClusters(i);
        Fields.allow(c, path + ".weighted_clusters.clusters[" + i + "]", "name", "weight");
        clusters.add(new TcpProxyConfig.WeightedCluster(c.getName(), c.getWeight()));
        total += c.getWeight();
      }
      if (total == 0) {
        throw new ConfigException(path + ".weighted_clusters", "the weights must not all be zero");
      }
    } else if (!t.getCluster().isEmpty()) {
      clusters.add(new TcpProxyConfig.WeightedCluster(t.getCluster(), 1));
      total = 1;
    } else {
      throw new ConfigException(path, "cluster or weighted_clusters is required");
    }
    long idle = t.hasIdleTimeout() ? Fields.millis(t.getIdleTimeout()) : 3_600_000;
    var scope = ctx.stats().scope("tcp." + t.getStatPrefix() + ".");
    return new TcpProxyConfig(t.getStatPrefix(), clusters, total, idle, scope.counter("downstream_cx_total"),
        scope.counter("downstream_cx_no_route"), io.bowline.core.transport.ConnectionBytes.downstream(scope),
        AccessLogs.compile(t.getAccessLogList(), path + ".access_log", ctx),
        observers);
  }

  private static FilterChainMatch match(io.envoyproxy.envoy.config.listener.v3.FilterChainMatch m, String path)
      throws ConfigException {
    Fields.allow(m, path, "destination_port", "prefix_ranges", "source_prefix_ranges", "source_ports",
        "server_names", "transport_protocol", "application_protocols");
    return new FilterChainMatch(m.hasDestinationPort() ? m.getDestinationPort().getValue() : null,
        ranges(m.getPrefixRangesList(), path + ".prefix_ranges"), m.getServerNamesList(),
        m.getTransportProtocol().isEmpty() ? null : m.getTransportProtocol(), m.getApplicationProtocolsList(),
        ranges(m.getSourcePrefixRangesList(), path + ".source_prefix_ranges"), m.getSourcePortsList());
  }

  private static List<CidrRange> ranges(List<io.envoyproxy.envoy.config.core.v3.CidrRange> in, String path)
      throws ConfigException {
    List<CidrRange> out = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      var r = in.get(i);
      InetAddress a = literal(r.getAddressPrefix(), path + "[" + i + "].address_prefix");
      int len = r.hasPrefixLen() ? r.getPrefixLen().getValue() : a.getAddress().length * 8;
      if (len > a.getAddress().length * 8) {
        throw new ConfigException(path + "[" + i + "].prefix_len", "too long for " + r.getAddressPrefix());
      }
      out.add(CidrRange.of(a, len));
    }
    return out;
  }

  /**
   * A listener's stats scope when it has no stat_prefix: its address as Envoy writes it with ':' made '_'
   * ({@code 0.0.0.0_15001}, {@code [__]_15001}), which Envoy's listener_address tag and Istio's dashboards expect.
   */
  static String addressStatName(InetSocketAddress a) {
    return io.bowline.core.transport.AddressText.of(a).replace(':', '_');
  }

  static InetSocketAddress socketAddress(Address a, String path) throws ConfigException {
    if (!a.hasSocketAddress()) {
      throw new ConfigException(path, "a socket_address is required (pipe and internal addresses are not "
          + "supported by bowline yet)");
    }
    SocketAddress s = a.getSocketAddress();
    Fields.allow(s, path + ".socket_address", "address", "port_value", "protocol", "ipv4_compat");
    if (s.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new ConfigException(path + ".socket_address.protocol", "only TCP is supported");
    }
    if (s.getPortValue() > 65535) {
      throw new ConfigException(path + ".socket_address.port_value", "out of range: " + s.getPortValue());
    }
    return new InetSocketAddress(literal(s.getAddress(), path + ".socket_address.address"), s.getPortValue());
  }

  private static boolean digitsAndDots(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < '0' || c > '9') && c != '.') {
        return false;
      }
    }
    return true;
  }

  static InetAddress literal(String ip, String path) throws ConfigException {
    if (ip.isEmpty() || !(ip.indexOf(':') >= 0 || digitsAndDots(ip))) {
      throw new ConfigException(path, "an IP address is required, got \"" + ip + "\"");
    }
    // parsed by Netty, as every endpoint of a push is: InetAddress.getByName's general path (its cache, its lookup
    // policy) is a large method the JIT would compile in the middle of a mesh-sized push for nothing
    byte[] bytes = ip.indexOf('%') < 0 ? io.netty.util.NetUtil.createByteArrayFromIpAddressString(ip) : null;
    try {
      return bytes != null ? InetAddress.getByAddress(bytes) : InetAddress.getByName(ip); // a literal: no lookup
    } catch (UnknownHostException e) {
      throw new ConfigException(path, "invalid IP address \"" + ip + "\"");
    }
  }
}
