package io.bowline.core.xds;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.bowline.core.compile.ClusterCompiler;
import io.bowline.core.compile.CompileContext;
import io.bowline.core.compile.EndpointCompiler;
import io.bowline.core.compile.FieldPresence;
import io.bowline.core.compile.ListenerCompiler;
import io.bowline.core.compile.RouteCompiler;
import io.bowline.xds.ConfigException;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.xds.bootstrap.EnvoyTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every cluster, endpoint set, route configuration and listener in the Istio config dumps of ../shared/fixtures/istio
 * (real sidecars, waypoints and gateways) through bowline's compilers, as an xDS push of them would go. Each either
 * compiles or fails for one of the reasons listed in {@link #KNOWN_GAPS}: Istio's own extensions and the pieces later
 * issues build. Anything else failing is a regression, and the test names the resource and the message.
 */
class IstioResourcesTest {
  /** What bowline does not support yet, each with the reason it still fails. */
  static final List<String> KNOWN_GAPS = List.of(
      // Istio's extensions (telemetry and peer metadata: the observability issue; authn/authz: the security issue)
      // (istio.stats resolves now, but this test compiles with no filter registry: the filters module has it)
      "network filter stats.PluginConfig is not supported by bowline yet",
      // (grpc_stats, the null-VM Wasm plugins and istio_authn resolve too, in the filters module's registry; its
      // IstioAuthzFixtureIT compiles the authorization filters of these dumps)
      "HTTP filter envoy.filters.http.grpc_stats", "HTTP filter istio.metadata_exchange", "HTTP filter istio.stats",
      // Istio's TCP metadata exchange, downstream and as the outbound clusters' upstream filter: in the filters
      // module's registry (TcpMetadataExchangeIT), not in this test's
      "network filter envoy.tcp.metadataexchange.config.MetadataExchange is not supported",
      "upstream network filter envoy.tcp.metadataexchange.config.MetadataExchange is not in this binary's filter",
      "Cannot resolve type: type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config",
      "Cannot resolve type: type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config",
      "network filter io.istio.network.authn.Config is not supported by bowline yet",
      // ambient's internal listeners and upstreams (the waypoint mode), and the unix-socket clusters of the agent's
      // xDS and SDS, which this test compiles as ordinary clusters (the bootstrap takes them as control-plane only)
      "Cannot resolve type: type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport",
      "Cannot resolve type: type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationIPInput",
      "Listener.internal_listener: not supported by bowline yet",
      "endpoint.address: a socket_address is required",
      // the sidecar mode's capture: virtualOutbound's use_original_dst, and the outbound listeners it hands
      // connections to, which bind no port of their own
      "Listener.use_original_dst: not supported by bowline yet",
      "listener filter envoy.extensions.filters.listener.original_dst.v3.OriginalDst is not supported",
      "Listener.bind_to_port: not supported by bowline yet",
      // a static listener in a dump routes to static clusters this test does not load alongside it
      "unknown cluster 'agent'", "unknown cluster 'prometheus_stats'");

  static final Path DIR = Path.of("..", "..", "shared", "fixtures", "istio").toAbsolutePath();

  @Test
  void survey() throws Exception {
    assumeTrue(Files.isDirectory(DIR), "the fixtures are beside the checkout");
    List<String> out = new ArrayList<>();
    compileAll(out, new ArrayList<>());
    List<String> unexpected = out.stream().filter(e -> KNOWN_GAPS.stream().noneMatch(e::contains)).toList();
    System.out.println("Istio resources: " + COMPILED[0] + " compiled, " + out.size() + " in known gaps:");
    out.stream().map(e -> e.replaceAll("^(\\S+ )\\S+: ", "$1")).sorted().distinct()
        .forEach(e -> System.out.println("  " + e));
    org.junit.jupiter.api.Assertions.assertTrue(unexpected.isEmpty(), "unexpected failures:\n" + String.join("\n",
        unexpected));
    org.junit.jupiter.api.Assertions.assertTrue(COMPILED[0] >= 100, "most resources compile: " + COMPILED[0]);
  }

  /**
   * The unsupported-field check answered from the bytes a resource came in ({@code FieldPresence}, as XdsApplier
   * compiles) decides every resource of the dumps exactly as checking each message does: same resources accepted,
   * same refusals word for word.
   */
  @Test
  void checkingFromTheWireDecidesEveryResourceAsTheExactCheck() throws Exception {
    assumeTrue(Files.isDirectory(DIR), "the fixtures are beside the checkout");
    List<String> exact = new ArrayList<>();
    compileAll(new ArrayList<>(), exact);
    List<String> walked = new ArrayList<>();
    WALK[0] = true;
    try {
      compileAll(new ArrayList<>(), new ArrayList<>()); // once to meet every Any type the dumps hold
      compileAll(new ArrayList<>(), walked); // then with all of them known to the walk
    } finally {
      WALK[0] = false;
    }
    org.junit.jupiter.api.Assertions.assertEquals(exact, walked);
    org.junit.jupiter.api.Assertions.assertTrue(exact.size() >= 100, "resources: " + exact.size());
  }

  static final boolean[] WALK = {false};

  /** Compiles every resource of the dumps: failures to {@code out}, each outcome ("ok" or the refusal) to {@code all}. */
  static void compileAll(List<String> out, List<String> all) throws Exception {
    List<Path> dumps;
    try (Stream<Path> s = Files.walk(DIR)) {
      dumps = s.filter(p -> p.toString().endsWith(".config_dump.json")).sorted().toList();
    }
    for (Path dump : dumps) {
      JsonArray configs = JsonParser.parseString(Files.readString(dump)).getAsJsonObject().getAsJsonArray("configs");
      for (JsonElement c : configs) {
        JsonObject o = c.getAsJsonObject();
        each(o, "static_clusters", "cluster", j -> compileCluster(j), dump, out, all);
        each(o, "dynamic_active_clusters", "cluster", j -> compileCluster(j), dump, out, all);
        each(o, "static_route_configs", "route_config", j -> compileRoute(j), dump, out, all);
        each(o, "dynamic_route_configs", "route_config", j -> compileRoute(j), dump, out, all);
        each(o, "static_endpoint_configs", "endpoint_config", j -> compileEndpoints(j), dump, out, all);
        each(o, "dynamic_endpoint_configs", "endpoint_config", j -> compileEndpoints(j), dump, out, all);
        each(o, "static_listeners", "listener", j -> compileListener(j), dump, out, all);
        if (o.has("dynamic_listeners")) {
          for (JsonElement l : o.getAsJsonArray("dynamic_listeners")) {
            JsonObject lo = l.getAsJsonObject();
            if (lo.has("active_state")) {
              run(lo.getAsJsonObject("active_state").getAsJsonObject("listener"), j -> compileListener(j), dump,
                  out, all);
            }
          }
        }
      }
    }
  }

  static final int[] COMPILED = {0};

  interface Compile {
    void run(JsonObject j) throws Exception;
  }

  static void each(JsonObject o, String list, String field, Compile c, Path dump, List<String> out,
      List<String> all) {
    if (!o.has(list)) {
      return;
    }
    for (JsonElement e : o.getAsJsonArray(list)) {
      JsonObject r = e.getAsJsonObject().getAsJsonObject(field);
      if (r != null) {
        run(r, c, dump, out, all);
      }
    }
  }

  static void run(JsonObject r, Compile c, Path dump, List<String> out, List<String> all) {
    String name = r.has("name") ? r.get("name").getAsString() : r.has("cluster_name")
        ? r.get("cluster_name").getAsString() : "?";
    try {
      c.run(r);
      COMPILED[0]++;
      all.add(dump.getFileName() + " " + name + ": ok");
    } catch (ConfigException e) {
      out.add(dump.getFileName() + " " + name + ": " + e.getMessage().replaceAll("\\[[^\\]]*\\]", "[]"));
      all.add(dump.getFileName() + " " + name + ": " + e.getMessage());
    } catch (Exception e) {
      out.add(dump.getFileName() + " " + name + ": " + e.getMessage());
      all.add(dump.getFileName() + " " + name + ": " + e);
    }
  }

  /** As XdsApplier compiles a resource: with its field presence read off its bytes when {@link #WALK} is on. */
  static <M extends Message> void compile(M m, FieldPresence.Body<?> body) throws Exception {
    if (WALK[0]) {
      FieldPresence.walking(m.toByteString(), m.getDescriptorForType(), body);
    } else {
      body.run();
    }
  }

  static <M extends Message.Builder> M parse(JsonObject j, M b) throws Exception {
    JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).ignoringUnknownFields().merge(j.toString(), b);
    return b;
  }

  static void compileCluster(JsonObject j) throws Exception {
    Cluster c = parse(j, Cluster.newBuilder()).build();
    compile(c, () -> ClusterCompiler.compile(c, "Cluster"));
  }

  static void compileRoute(JsonObject j) throws Exception {
    RouteConfiguration rc = parse(j, RouteConfiguration.newBuilder()).build();
    compile(rc, () -> RouteCompiler.compile(rc, "RouteConfiguration", FilterRegistry.empty()));
  }

  static void compileEndpoints(JsonObject j) throws Exception {
    ClusterLoadAssignment la = parse(j, ClusterLoadAssignment.newBuilder()).build();
    compile(la, () -> EndpointCompiler.compile(la, "ClusterLoadAssignment", false));
  }

  static void compileListener(JsonObject j) throws Exception {
    Listener l = parse(j, Listener.newBuilder()).build();
    compile(l, () -> ListenerCompiler.compile(l, "Listener", new CompileContext(new io.bowline.core.stats.Stats(),
        FilterRegistry.empty(), 1000, 1000)));
  }
}
