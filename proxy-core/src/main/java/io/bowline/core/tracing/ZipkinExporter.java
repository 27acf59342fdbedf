package io.bowline.core.tracing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.bowline.core.filter.ClusterDirectory;
import io.bowline.core.stats.Stats;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * {@code envoy.tracers.zipkin}'s export: Zipkin v2 JSON ({@code HTTP_JSON}) posted to {@code collector_endpoint} on
 * the collector cluster; the local service is the node's cluster, as Envoy names it.
 */
public final class ZipkinExporter extends SpanExporter {
  private final String cluster;
  private final String endpoint;
  private final String serviceName;
  private final ClusterDirectory clusters;
  private final Spans batch;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();

  public ZipkinExporter(String cluster, String endpoint, String serviceName, ClusterDirectory clusters, Stats stats) {
    this(cluster, endpoint, serviceName, clusters, stats, new Spans());
  }

  private ZipkinExporter(String cluster, String endpoint, String serviceName, ClusterDirectory clusters, Stats stats,
      Spans batch) {
    super("zipkin", stats, 1000, batch);
    this.batch = batch;
    this.cluster = cluster;
    this.endpoint = endpoint;
    this.serviceName = serviceName;
    this.clusters = clusters;
  }

  @Override
  protected void send() throws Exception {
    JsonArray spans = new JsonArray();
    for (SpanRecord s : batch.list) {
      JsonObject o = new JsonObject();
      o.addProperty("traceId", s.traceId());
      o.addProperty("id", s.spanId());
      if (!s.parentSpanId().isEmpty()) {
        o.addProperty("parentId", s.parentSpanId());
      }
      o.addProperty("name", s.name());
      o.addProperty("kind", s.server() ? "SERVER" : "CLIENT");
      o.addProperty("timestamp", s.startEpochNanos() / 1000);
      o.addProperty("duration", Math.max(1, (s.endEpochNanos() - s.startEpochNanos()) / 1000));
      JsonObject local = new JsonObject();
      local.addProperty("serviceName", serviceName);
      o.add("localEndpoint", local);
      JsonObject tags = new JsonObject();
      s.attributes().forEach(tags::addProperty);
      o.add("tags", tags);
      spans.add(o);
    }
    List<InetSocketAddress> hosts = clusters.hosts(cluster);
    if (hosts.isEmpty()) {
      throw new IllegalStateException("cluster " + cluster + " has no hosts");
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://"
        + io.netty.util.NetUtil.toSocketAddressString(hosts.get(0)) + endpoint)).timeout(Duration.ofSeconds(5))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(spans.toString()))
        .build();
    HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("collector answered " + r.statusCode());
    }
  }
}
