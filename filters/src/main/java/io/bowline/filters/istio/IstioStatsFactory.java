package io.bowline.filters.istio;

import com.google.protobuf.Any;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.ConnectionObserverProvider;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.IstioTypes;

/**
 * {@code istio.stats} ({@code type.googleapis.com/stats.PluginConfig}, bare or in a TypedStruct): Istio's standard
 * HTTP metrics — {@code istio_requests_total}, {@code istio_request_duration_milliseconds},
 * {@code istio_request_bytes}, {@code istio_response_bytes} — with Istio's labels, served on /stats/prometheus; as a
 * network filter before tcp_proxy, Istio's TCP metrics.
 */
public final class IstioStatsFactory implements HttpFilterFactory<DynamicMessage> {
  @Override
  public String name() {
    return "istio.stats";
  }

  @Override
  public String configTypeName() {
    return IstioTypes.STATS_PLUGIN_CONFIG.getFullName();
  }

  @Override
  public Class<DynamicMessage> configType() {
    return DynamicMessage.class;
  }

  @Override
  public DynamicMessage defaultConfig() {
    return StatsSettings.defaultConfig();
  }

  @Override
  public DynamicMessage parse(Any typedConfig) throws InvalidProtocolBufferException {
    return DynamicMessage.parseFrom(IstioTypes.STATS_PLUGIN_CONFIG, typedConfig.getValue());
  }

  @Override
  public ConnectionObserverProvider connectionObserver(DynamicMessage config, FactoryContext context)
      throws ConfigException {
    StatsSettings settings = StatsSettings.parse(config, context.fieldPath() + ".typed_config");
    recordBuild(context.listener());
    return new TcpStatsProvider(settings, context.listener(), context.clusters(), StatsSettings.tcpReportingMs(config));
  }

  @Override
  public HttpFilterProvider create(DynamicMessage config, FactoryContext context) throws ConfigException {
    StatsSettings settings = StatsSettings.parse(config, context.fieldPath() + ".typed_config");
    recordBuild(context.listener());
    return new IstioStatsProvider(settings, context.listener(), context.clusters());
  }

  /**
   * {@code istio_build{component="proxy",tag="<ISTIO_VERSION>"} 1}, as Istio's stats filter publishes it (Istio's
   * dashboards read the proxies' versions from it); {@code unknown} without the node's {@code ISTIO_VERSION}.
   */
  private static void recordBuild(io.bowline.core.filter.ListenerContext listener) {
    com.google.protobuf.Value v = listener.nodeMetadata().getFieldsMap().get("ISTIO_VERSION");
    String version = v == null || v.getStringValue().isEmpty() ? Workload.UNKNOWN : v.getStringValue();
    io.micrometer.core.instrument.Gauge.builder("istio_build", () -> 1).description("Istio component build info")
        .tags("component", "proxy", "tag", version).register(listener.meters());
  }
}
