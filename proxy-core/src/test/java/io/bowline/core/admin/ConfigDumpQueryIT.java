package io.bowline.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code /config_dump}'s query, as Envoy's admin reads it: {@code resource}, {@code mask} (into an Any, too),
 * {@code name_regex}, and a clear status when the question has no answer. Before, every query got the whole dump.
 */
@ExtendWith(LeakGuard.class)
class ConfigDumpQueryIT {
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    proxy = ProxyHarness.start(ProxyHarness.httpBootstrap(
        "- name: all\n  domains: [\"*\"]\n  routes: [{match: {prefix: \"/\"}, route: {cluster: backend}}]\n",
        ProxyHarness.staticCluster("backend", "${BACKEND}") + ProxyHarness.staticCluster("other", "${BACKEND}")),
        Map.of("BACKEND", 9));
  }

  @AfterAll
  static void stop() {
    proxy.close();
  }

  private static JsonArray configs(String query) throws Exception {
    HttpResponse<String> r = proxy.adminResponse("GET", "/config_dump" + query);
    assertEquals(200, r.statusCode(), r.body());
    JsonArray configs = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("configs");
    return configs == null ? new JsonArray() : configs; // protobuf's JSON leaves out an empty list
  }

  private static List<String> types(JsonArray configs) {
    List<String> out = new ArrayList<>();
    configs.forEach(c -> out.add(c.getAsJsonObject().get("@type").getAsString()));
    return out;
  }

  @Test
  void resourceGivesTheElementsOfThatRepeatedField() throws Exception {
    JsonArray c = configs("?resource=static_clusters");
    assertEquals(List.of("type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster",
        "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster"), types(c));
    assertEquals("backend", c.get(0).getAsJsonObject().getAsJsonObject("cluster").get("name").getAsString());
  }

  @Test
  void aMaskWithAResourceReachesIntoTheAny() throws Exception {
    JsonArray c = configs("?resource=static_clusters&mask=cluster.name");
    for (var e : c) {
      JsonObject o = e.getAsJsonObject();
      assertEquals(Set.of("@type", "cluster"), o.keySet(), "last_updated trimmed: " + o);
      assertEquals(Set.of("@type", "name"), o.getAsJsonObject("cluster").keySet(), o.toString());
    }
  }

  @Test
  void aMaskAloneTrimsEachTopLevelDump() throws Exception {
    JsonArray c = configs("?mask=static_clusters");
    assertEquals(5, c.size(), "every dump (EDS's only with include_eds), trimmed: " + c);
    for (var e : c) {
      JsonObject o = e.getAsJsonObject();
      if (o.get("@type").getAsString().endsWith("ClustersConfigDump")) {
        assertEquals(Set.of("@type", "static_clusters"), o.keySet());
      } else {
        assertEquals(Set.of("@type"), o.keySet(), o.toString());
      }
    }
  }

  @Test
  void nameRegexKeepsTheResourcesWhoseNameMatchesWhole() throws Exception {
    JsonArray c = configs("?resource=static_clusters&name_regex=oth.*");
    assertEquals(1, c.size(), c.toString());
    assertEquals("other", c.get(0).getAsJsonObject().getAsJsonObject("cluster").get("name").getAsString());
    assertEquals(0, configs("?resource=static_clusters&name_regex=oth").size(), "a whole match, as Envoy's");
    assertEquals(1, configs("?resource=static_listeners&name_regex=http").size());
  }

  @Test
  void aQuestionWithoutAnAnswerSaysWhy() throws Exception {
    HttpResponse<String> notRepeated = proxy.adminResponse("GET", "/config_dump?resource=version_info");
    assertEquals(400, notRepeated.statusCode());
    assertEquals("version_info is not a repeated field. Use ?mask=version_info to get only this field\n",
        notRepeated.body());
    HttpResponse<String> missing = proxy.adminResponse("GET", "/config_dump?resource=dynamic_nothing");
    assertEquals(404, missing.statusCode());
    assertEquals("dynamic_nothing not found in config dump\n", missing.body());
    HttpResponse<String> badRegex = proxy.adminResponse("GET", "/config_dump?name_regex=(");
    assertEquals(400, badRegex.statusCode());
    assertTrue(badRegex.body().startsWith("Error while parsing name_regex from ("), badRegex.body());
  }
}
