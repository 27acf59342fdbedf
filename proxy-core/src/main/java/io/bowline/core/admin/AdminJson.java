package io.bowline.core.admin;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.bowline.core.listener.ListenerManager;
import io.bowline.core.upstream.Cluster;
import io.bowline.core.upstream.ClusterManager;
import io.bowline.core.upstream.UpstreamHost;

/** The JSON forms of the admin endpoints, in Envoy's field names. */
final class AdminJson {
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

  private AdminJson() {}

  static String serverInfo(AdminContext s) {
    JsonObject o = new JsonObject();
    o.addProperty("version", "bowline/" + Version.VERSION);
    o.addProperty("state", s.state());
    o.addProperty("hot_restart_version", "disabled");
    o.add("command_line_options", GSON.toJsonTree(s.commandLineOptions()));
    JsonObject node = new JsonObject();
    node.addProperty("id", s.config().node().id());
    node.addProperty("cluster", s.config().node().cluster());
    o.add("node", node);
    o.addProperty("uptime_current_epoch", s.uptimeSeconds() + "s");
    o.addProperty("uptime_all_epochs", s.uptimeSeconds() + "s");
    return GSON.toJson(o);
  }

  static String clusters(ClusterManager cm) {
    JsonArray statuses = new JsonArray();
    for (Cluster c : cm.all().values()) {
      JsonObject cs = new JsonObject();
      cs.addProperty("name", c.config().name());
      cs.addProperty("observability_name", c.config().name());
      JsonArray hosts = new JsonArray();
      for (UpstreamHost h : c.hosts().hosts()) {
        JsonObject ho = new JsonObject();
        ho.add("address", address(io.bowline.core.transport.AddressText.ip(h.address()), h.address().getPort()));
        JsonObject health = new JsonObject();
        health.addProperty("eds_health_status", !h.healthy() ? "UNHEALTHY" : h.degraded() ? "DEGRADED" : "HEALTHY");
        if (h.ejected()) {
          health.addProperty("failed_outlier_check", true);
        }
        ho.add("health_status", health);
        ho.addProperty("weight", h.weight());
        ho.addProperty("priority", h.priority());
        ho.addProperty("hostname", h.hostname());
        hosts.add(ho);
      }
      cs.add("host_statuses", hosts);
      statuses.add(cs);
    }
    JsonObject root = new JsonObject();
    root.add("cluster_statuses", statuses);
    return GSON.toJson(root);
  }

  static String listeners(ListenerManager lm) {
    JsonArray arr = new JsonArray();
    for (var b : lm.bound()) {
      JsonObject o = new JsonObject();
      o.addProperty("name", b.config().name());
      o.add("local_address", address(io.bowline.core.transport.AddressText.ip(b.localAddress()),
          b.localAddress().getPort()));
      arr.add(o);
    }
    JsonObject root = new JsonObject();
    root.add("listener_statuses", arr);
    return GSON.toJson(root);
  }

  private static JsonObject address(String ip, int port) {
    JsonObject sa = new JsonObject();
    sa.addProperty("address", ip);
    sa.addProperty("port_value", port);
    JsonObject a = new JsonObject();
    a.add("socket_address", sa);
    return a;
  }
}
