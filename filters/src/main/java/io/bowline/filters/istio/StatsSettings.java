package io.bowline.filters.istio;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.bowline.xds.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code stats.PluginConfig}, compiled: the reporter, the host-header fallback, for each standard metric its
 * label names after the {@code metrics} overrides (added and overriding dimensions, {@code tags_to_remove},
 * {@code drop}), and the custom metrics of {@code definitions}.
 */
record StatsSettings(boolean serverGateway, boolean disableHostHeaderFallback, Map<String, Family> families,
    List<Custom> custom) {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StatsSettings.class);

  /** Istio's standard labels of an HTTP metric, in Istio's order. */
  static final List<String> HTTP_LABELS = List.of("reporter", "source_workload", "source_canonical_service",
      "source_canonical_revision", "source_workload_namespace", "source_principal", "source_app", "source_version",
      "source_cluster", "destination_workload", "destination_workload_namespace", "destination_principal",
      "destination_app", "destination_version", "destination_service", "destination_canonical_service",
      "destination_canonical_revision", "destination_service_name", "destination_service_namespace",
      "destination_cluster", "request_protocol", "response_code", "grpc_response_status", "response_flags",
      "connection_security_policy");

  /** The standard labels of a TCP metric: the HTTP ones but the response code and gRPC status. */
  static final List<String> TCP_LABELS = HTTP_LABELS.stream()
      .filter(l -> !l.equals("response_code") && !l.equals("grpc_response_status")).toList();

  /** The standard HTTP metrics, by the name {@code metrics[].name} uses. */
  static final List<String> HTTP_METRICS = List.of("requests_total", "request_duration_milliseconds",
      "request_bytes", "response_bytes", "request_messages_total", "response_messages_total");

  /**
   * A custom metric of {@code definitions}: {@code istio_<name>}, its value expression (an integer, as Istio reads
   * it; anything else counts 0), and the only labels it has, the dimensions {@code metrics} overrides give it.
   */
  record Custom(String name, CustomMetrics.Type type, Dimension value, Map<String, Dimension> dimensions) {
    /** The value of the expression for one request or connection. */
    long amount(io.bowline.core.accesslog.AccessLogFacts f) {
      return Dimension.integer(value.value(f));
    }
  }

  /**
   * One metric family: whether it is reported, its standard labels kept (in Istio's order), the standard labels whose
   * value an expression replaces, and the dimensions it adds after them.
   */
  record Family(String name, boolean dropped, List<String> labels, Map<String, Dimension> overridden,
      Map<String, Dimension> added) {
    /** Whether a request's label values depend on more than its peers and outcome. */
    boolean evaluates() {
      return !overridden.isEmpty() || !added.isEmpty();
    }

    /** The key of a dimension's value among a request's evaluated values: per family, as expressions may differ. */
    String valueKey(String label) {
      return name + '|' + label;
    }
  }

  static StatsSettings parse(Message config, String path) throws ConfigException {
    Descriptor d = config.getDescriptorForType();
    boolean gateway = enumName(config, d.findFieldByName("reporter")).equals("SERVER_GATEWAY");
    boolean noHostFallback = (Boolean) config.getField(d.findFieldByName("disable_host_header_fallback"));
    FieldDescriptor defs = d.findFieldByName("definitions");
    java.util.Set<String> takenFamilies = new java.util.HashSet<>(List.of("istio_build"));
    for (String m : HTTP_METRICS) {
      takenFamilies.add(prometheusFamily("istio_" + m, m.endsWith("_total") ? CustomMetrics.Type.COUNTER
          : CustomMetrics.Type.HISTOGRAM));
    }
    for (String m : TCP_METRICS) {
      takenFamilies.add(prometheusFamily("istio_" + m, CustomMetrics.Type.COUNTER));
    }
    Map<String, CustomMetrics.Type> customTypes = new LinkedHashMap<>();
    Map<String, Dimension> customValues = new LinkedHashMap<>();
    Map<String, Map<String, Dimension>> customDims = new LinkedHashMap<>();
    for (int i = 0; i < config.getRepeatedFieldCount(defs); i++) {
      Message def = (Message) config.getRepeatedField(defs, i);
      String dp = path + ".definitions[" + i + "]";
      Descriptor dd = def.getDescriptorForType();
      String name = (String) def.getField(dd.findFieldByName("name"));
      if (name.isEmpty()) {
        throw new ConfigException(dp + ".name", "required");
      }
      if (HTTP_METRICS.contains(name) || TCP_METRICS.contains(name)) {
        LOG.warn("{}.name: '{}' is a standard metric, which a definition may not redefine: skipped, as Istio does",
            dp, name);
        continue;
      }
      CustomMetrics.Type type = CustomMetrics.Type.valueOf(enumName(def, dd.findFieldByName("type")));
      String family = prometheusFamily("istio_" + name, type);
      if (!takenFamilies.add(family)) { // two metrics of one family would break the whole scrape
        LOG.warn("{}.name: '{}' would be the Prometheus metric family '{}', which another metric is: skipped", dp,
            name, family);
        continue;
      }
      customTypes.put(name, type);
      customValues.put(name, Dimension.parse((String) def.getField(dd.findFieldByName("value")), dp + ".value"));
      customDims.put(name, new java.util.TreeMap<>());
    }
    Map<String, Family> families = new LinkedHashMap<>();
    for (String m : HTTP_METRICS) {
      families.put(m, new Family(m, false, HTTP_LABELS, Map.of(), Map.of()));
    }
    for (String m : TCP_METRICS) {
      families.put(m, new Family(m, false, TCP_LABELS, Map.of(), Map.of()));
    }
    FieldDescriptor metrics = d.findFieldByName("metrics");
    for (int i = 0; i < config.getRepeatedFieldCount(metrics); i++) {
      Message mc = (Message) config.getRepeatedField(metrics, i);
      String mp = path + ".metrics[" + i + "]";
      Descriptor md = mc.getDescriptorForType();
      String name = (String) mc.getField(md.findFieldByName("name"));
      if (!((String) mc.getField(md.findFieldByName("match"))).isEmpty()) {
        throw new ConfigException(mp + ".match", "not supported (Istio does not implement it either)");
      }
      if (customDims.containsKey(name) || name.isEmpty()) { // a custom metric's labels are its dimensions alone
        for (String custom : name.isEmpty() ? customDims.keySet() : List.of(name)) {
          customDims.get(custom).putAll(dimensions(mc, md, mp));
        }
        if (!name.isEmpty()) {
          continue;
        }
      }
      if (!name.isEmpty() && !HTTP_METRICS.contains(name) && !TCP_METRICS.contains(name)) {
        // istiod names a Telemetry override of a custom metric this way; Istio's filter applies it only to a metric
        // that `definitions` declares, and skips it otherwise
        LOG.warn("{}.name: '{}' is no standard Istio metric and no custom one is defined: skipped, as Istio does",
            mp, name);
        continue;
      }
      List<String> targets = name.isEmpty() ? List.copyOf(families.keySet()) : List.of(name);
      boolean drop = (Boolean) mc.getField(md.findFieldByName("drop"));
      List<?> toRemove = (List<?>) mc.getField(md.findFieldByName("tags_to_remove"));
      Map<String, Dimension> dims = dimensions(mc, md, mp);
      for (String t : targets) {
        Family f = families.get(t);
        List<String> standard = HTTP_METRICS.contains(t) ? HTTP_LABELS : TCP_LABELS;
        java.util.Set<String> kept = new java.util.HashSet<>(f.labels());
        Map<String, Dimension> overridden = new LinkedHashMap<>(f.overridden());
        Map<String, Dimension> added = new LinkedHashMap<>(f.added());
        for (Object r : toRemove) { // removals first, then dimensions: a label removed and given a value stays (Istio)
          kept.remove((String) r);
          overridden.remove((String) r);
          added.remove(legacyLabelName((String) r));
        }
        for (var e : dims.entrySet()) {
          if (standard.contains(e.getKey())) {
            kept.add(e.getKey());
            overridden.put(e.getKey(), e.getValue());
          } else {
            added.put(e.getKey(), e.getValue());
          }
        }
        List<String> labels = standard.stream().filter(kept::contains).toList();
        families.put(t, new Family(t, f.dropped() || drop, labels, Map.copyOf(overridden),
            java.util.Collections.unmodifiableMap(added)));
      }
    }
    List<Custom> custom = new ArrayList<>();
    for (var e : customTypes.entrySet()) {
      custom.add(new Custom("istio_" + e.getKey(), e.getValue(), customValues.get(e.getKey()),
          java.util.Collections.unmodifiableMap(customDims.get(e.getKey()))));
    }
    return new StatsSettings(gateway, noHostFallback, Map.copyOf(families), List.copyOf(custom));
  }

  /** The Prometheus family a metric's samples belong to: a counter's name without its {@code _total}. */
  static String prometheusFamily(String name, CustomMetrics.Type type) {
    return type == CustomMetrics.Type.COUNTER && name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
  }

  /** A {@code metrics} entry's dimensions by label name, in name order (Istio applies them so). */
  private static Map<String, Dimension> dimensions(Message mc, Descriptor md, String mp) throws ConfigException {
    Map<String, Dimension> dims = new java.util.TreeMap<>();
    FieldDescriptor dimField = md.findFieldByName("dimensions");
    for (int j = 0; j < mc.getRepeatedFieldCount(dimField); j++) {
      Message entry = (Message) mc.getRepeatedField(dimField, j);
      String given = (String) entry.getField(entry.getDescriptorForType().findFieldByName("key"));
      String expr = (String) entry.getField(entry.getDescriptorForType().findFieldByName("value"));
      String key = legacyLabelName(given);
      if (key.isEmpty() || dims.containsKey(key)) {
        throw new ConfigException(mp + ".dimensions[" + given + "]", key.isEmpty() ? "a dimension needs a name"
            : "names the label '" + key + "' that another dimension names too");
      }
      dims.put(key, Dimension.parse(expr, mp + ".dimensions[" + given + "]"));
    }
    return dims;
  }

  static final List<String> TCP_METRICS = List.of("tcp_sent_bytes_total", "tcp_received_bytes_total",
      "tcp_connections_opened_total", "tcp_connections_closed_total");

  /** tcp_reporting_duration: how often open TCP connections report their bytes; Istio's default is 5 s. */
  static long tcpReportingMs(Message config) {
    FieldDescriptor f = config.getDescriptorForType().findFieldByName("tcp_reporting_duration");
    if (!config.hasField(f)) {
      return 5000;
    }
    Message d = (Message) config.getField(f);
    long seconds = (Long) d.getField(d.getDescriptorForType().findFieldByName("seconds"));
    int nanos = (Integer) d.getField(d.getDescriptorForType().findFieldByName("nanos"));
    return Math.max(1, seconds * 1000 + nanos / 1_000_000);
  }

  private static String enumName(Message m, FieldDescriptor f) {
    Object v = m.getField(f);
    return v instanceof com.google.protobuf.Descriptors.EnumValueDescriptor e ? e.getName() : String.valueOf(v);
  }

  static DynamicMessage defaultConfig() {
    return DynamicMessage.getDefaultInstance(io.bowline.xds.bootstrap.IstioTypes.STATS_PLUGIN_CONFIG);
  }

  /**
   * An added dimension's name as Prometheus' classic label names allow, each other character an underscore
   * ({@code request.host} is {@code request_host}), as Micrometer's naming wrote it and as Envoy sanitises tag names.
   */
  private static String legacyLabelName(String name) {
    char[] out = name.toCharArray();
    for (int i = 0; i < out.length; i++) {
      char c = out[i];
      boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
      if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
        out[i] = '_';
      }
    }
    return new String(out);
  }
}
