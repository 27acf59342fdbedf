package io.bowline.filters;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import io.bowline.core.compile.ClusterCompiler;
import io.bowline.core.compile.CompileContext;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.EnvoyTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every cluster istiod sent the real sidecars, gateways and waypoints of ../shared/fixtures/istio, compiled with the
 * binary's filter registry: auto mTLS (transport_socket_matches) and the TCP metadata exchange upstream filter
 * included. What still fails is listed here with its reason.
 */
class IstioClustersTest {
  static final Path DIR = Path.of("..", "..", "shared", "fixtures", "istio").toAbsolutePath();
  /** Endpoints on unix sockets (the agent's xDS and SDS, reached by the control-plane client only) and internal ones. */
  static final List<String> KNOWN = List.of("a socket_address is required",
      "InternalUpstreamTransport");

  @Test
  void istiosClustersCompile() throws Exception {
    assumeTrue(Files.isDirectory(DIR), "the fixtures are beside the checkout");
    CompileContext ctx = new CompileContext(new Stats(), BuiltinFilters.registry(), 1000, 1000);
    List<Path> dumps;
    try (Stream<Path> s = Files.walk(DIR)) {
      dumps = s.filter(p -> p.toString().endsWith(".config_dump.json")).sorted().toList();
    }
    int compiled = 0;
    int withMatches = 0;
    int withFilters = 0;
    List<String> failed = new ArrayList<>();
    for (Path dump : dumps) {
      for (JsonElement c : JsonParser.parseString(Files.readString(dump)).getAsJsonObject().getAsJsonArray("configs")) {
        for (String list : new String[] {"static_clusters", "dynamic_active_clusters"}) {
          var arr = c.getAsJsonObject().getAsJsonArray(list);
          if (arr == null) {
            continue;
          }
          for (JsonElement e : arr) {
            Cluster.Builder b = Cluster.newBuilder();
            try {
              JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).ignoringUnknownFields()
                  .merge(e.getAsJsonObject().get("cluster").toString(), b);
              Cluster cluster = b.build();
              ClusterCompiler.compile(cluster, "Cluster", ctx);
              compiled++;
              withMatches += cluster.getTransportSocketMatchesCount() > 0 ? 1 : 0;
              withFilters += cluster.getFiltersCount() > 0 ? 1 : 0;
            } catch (ConfigException | com.google.protobuf.InvalidProtocolBufferException x) {
              String why = dump.getFileName() + " " + b.getName() + ": " + x.getMessage();
              if (KNOWN.stream().noneMatch(why::contains)) {
                failed.add(why);
              }
            }
          }
        }
      }
    }
    System.out.println("Istio clusters compiled: " + compiled + " (" + withMatches + " with auto mTLS, "
        + withFilters + " with the metadata exchange upstream filter)");
    assertTrue(failed.isEmpty(), String.join("\n", failed));
    assertTrue(withMatches > 50 && withFilters > 50, compiled + " " + withMatches + " " + withFilters);
  }
}
