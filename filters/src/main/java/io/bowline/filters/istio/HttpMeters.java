package io.bowline.filters.istio;

import io.prometheus.metrics.model.snapshots.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The standard HTTP metrics of one label set, as one event loop records them. Resolved once per label set and event
 * loop (registration is the only registry lookup); recording a request is then a count and three histogram values
 * in cells of this loop's own ({@link LoopMeters}).
 */
final class HttpMeters {
  /** Istio's buckets for istio_request_duration_milliseconds. */
  static final double[] DURATION_BUCKETS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
      60000, 300000, 600000, 1800000, 3600000};
  /** Istio's buckets for istio_request_bytes and istio_response_bytes. */
  static final double[] BYTES_BUCKETS = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
      1000000000};

  /** Help text for each standard metric, as # HELP lines. */
  static final Map<String, String> HELP = Map.of(
      "requests_total", "Requests, per source and destination workload and outcome (Istio standard metric)",
      "request_duration_milliseconds", "Request duration in milliseconds (Istio standard metric)",
      "request_bytes", "Request body size in bytes (Istio standard metric)",
      "response_bytes", "Response body size in bytes (Istio standard metric)",
      "request_messages_total", "gRPC messages received from the client (Istio standard metric)",
      "response_messages_total", "gRPC messages sent to the client (Istio standard metric)",
      "tcp_connections_opened_total", "TCP connections opened (Istio standard metric)",
      "tcp_connections_closed_total", "TCP connections closed (Istio standard metric)",
      "tcp_sent_bytes_total", "Bytes sent to the downstream on TCP connections (Istio standard metric)",
      "tcp_received_bytes_total", "Bytes received from the downstream on TCP connections (Istio standard metric)");

  private final LoopMeters.@Nullable CounterCells requests;
  private final LoopMeters.@Nullable HistogramCells duration;
  private final LoopMeters.@Nullable HistogramCells requestBytes;
  private final LoopMeters.@Nullable HistogramCells responseBytes;
  private final LoopMeters.@Nullable CounterCells requestMessages;
  private final LoopMeters.@Nullable CounterCells responseMessages;

  /**
   * @param values the standard labels' values, in {@link StatsSettings#HTTP_LABELS} order
   * @param added the added dimensions' values by label name
   */
  HttpMeters(LoopMeters meters, StatsSettings settings, String[] values, Map<String, String> added) {
    requests = counter(meters, settings.families().get("requests_total"), values, added);
    duration = histogram(meters, settings.families().get("request_duration_milliseconds"), values, added,
        DURATION_BUCKETS);
    requestBytes = histogram(meters, settings.families().get("request_bytes"), values, added, BYTES_BUCKETS);
    responseBytes = histogram(meters, settings.families().get("response_bytes"), values, added, BYTES_BUCKETS);
    boolean grpc = "grpc".equals(values[20]); // gRPC message counts exist for gRPC requests only, as in Istio
    requestMessages = grpc ? counter(meters, settings.families().get("request_messages_total"), values, added)
        : null;
    responseMessages = grpc ? counter(meters, settings.families().get("response_messages_total"), values, added)
        : null;
  }

  void record(double durationMs, long requestBodyBytes, long responseBodyBytes, long requestMsgs, long responseMsgs) {
    if (requestMessages != null) {
      requestMessages.increment(requestMsgs);
    }
    if (responseMessages != null) {
      responseMessages.increment(responseMsgs);
    }
    if (requests != null) {
      requests.increment();
    }
    if (duration != null) {
      duration.record(durationMs);
    }
    if (requestBytes != null) {
      requestBytes.record(requestBodyBytes);
    }
    if (responseBytes != null) {
      responseBytes.record(responseBodyBytes);
    }
  }

  /** This thread's cells of the label set's counter. */
  private static LoopMeters.@Nullable CounterCells counter(LoopMeters meters, StatsSettings.Family f,
      String[] values, Map<String, String> added) {
    if (f.dropped()) {
      return null;
    }
    return meters.counter("istio_" + f.name(), HELP.get(f.name()), labels(f, values, added));
  }

  /** This thread's cells of the label set's histogram. */
  private static LoopMeters.@Nullable HistogramCells histogram(LoopMeters meters, StatsSettings.Family f,
      String[] values, Map<String, String> added, double[] buckets) {
    if (f.dropped()) {
      return null;
    }
    return meters.histogram("istio_" + f.name(), HELP.get(f.name()), buckets, labels(f, values, added));
  }

  private static Labels labels(StatsSettings.Family f, String[] values, Map<String, String> evaluated) {
    return labels(f, StatsSettings.HTTP_LABELS, values, evaluated);
  }

  /**
   * A family's label names and values: its standard labels (an overridden one with its expression's value), then
   * its added dimensions; {@code evaluated} holds the request's expression values by {@link StatsSettings.Family#valueKey}.
   */
  static Labels labels(StatsSettings.Family f, List<String> standard, String[] values, Map<String, String> evaluated) {
    List<String> names = new ArrayList<>(f.labels().size() + f.added().size());
    List<String> labelValues = new ArrayList<>(names.size());
    for (String label : f.labels()) {
      names.add(label);
      labelValues.add(f.overridden().containsKey(label)
          ? evaluated.getOrDefault(f.valueKey(label), Workload.UNKNOWN) : values[standard.indexOf(label)]);
    }
    for (String label : f.added().keySet()) {
      names.add(label);
      labelValues.add(evaluated.getOrDefault(f.valueKey(label), Workload.UNKNOWN));
    }
    return Labels.of(names, labelValues);
  }

  /** The values of every family's overriding and added dimensions for one request or connection. */
  static Map<String, String> evaluate(StatsSettings settings, io.bowline.core.accesslog.AccessLogFacts f) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (StatsSettings.Family fam : settings.families().values()) {
      for (var e : fam.overridden().entrySet()) {
        out.put(fam.valueKey(e.getKey()), e.getValue().value(f));
      }
      for (var e : fam.added().entrySet()) {
        out.put(fam.valueKey(e.getKey()), e.getValue().value(f));
      }
    }
    return out;
  }
}
