package io.bowline.launcher;

import io.bowline.core.admin.Version;
import io.bowline.core.boot.EmbeddedDefault;
import io.bowline.core.boot.Logging;
import io.bowline.core.boot.Options;
import io.bowline.core.boot.Server;
import io.bowline.core.filter.FilterRegistry;
import io.bowline.filters.BuiltinFilters;
import io.bowline.sidecar.SidecarAssembly;
import io.bowline.waypoint.WaypointAssembly;
import io.bowline.xds.ConfigException;
import io.bowline.xds.bootstrap.BootstrapLoader;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The single binary: parses Envoy's command line, loads the bootstrap, picks the assembly, runs until drained. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (Options.UsageException e) {
      System.err.println("error: " + e.getMessage());
      return 1;
    }
    if (options.help) {
      System.out.print(Options.usage());
      return 0;
    }
    if (options.version) {
      System.out.println("bowline version: " + Version.VERSION);
      return 0;
    }
    if (Logging.parseable(options.logLevel)) {
      Logging.install(options.logLevel);
    } else {
      System.err.println("error: --log-level: unknown level " + options.logLevel);
      return 1;
    }
    String bad = Logging.applyComponents(options.componentLogLevel);
    if (bad != null) {
      System.err.println("error: --component-log-level: cannot apply \"" + bad + "\"; components: "
          + String.join(", ", Logging.components()));
      return 1;
    }
    Logger logger = LoggerFactory.getLogger("io.bowline.core.boot.Main");
    for (String flag : options.ignored()) {
      logger.info("option {} is accepted for Envoy compatibility and has no effect", flag);
    }
    Bootstrap bootstrap;
    BootstrapLoader loader = new BootstrapLoader(options.allowUnknownStaticFields);
    String source = options.configPath != null ? options.configPath : options.configYaml != null ? "--config-yaml"
        : "embedded default";
    try {
      if (options.configPath == null && options.configYaml == null) {
        bootstrap = loader.parse(EmbeddedDefault.YAML, BootstrapLoader.Format.YAML).bootstrap();
        logger.info("no config given: serving 0.0.0.0:10000 -> 127.0.0.1:8080, admin on 127.0.0.1:9901");
      } else {
        Bootstrap.Builder b = Bootstrap.newBuilder();
        if (options.configPath != null) {
          BootstrapLoader.Loaded l = loader.loadFile(Path.of(options.configPath));
          l.warnings().forEach(w -> logger.warn("{}", w));
          b.mergeFrom(l.bootstrap());
        }
        if (options.configYaml != null) {
          BootstrapLoader.Loaded l = loader.parse(options.configYaml, BootstrapLoader.Format.YAML);
          l.warnings().forEach(w -> logger.warn("{}", w));
          b.mergeFrom(l.bootstrap());
        }
        bootstrap = b.build();
      }
    } catch (ConfigException e) {
      System.err.println("error: initializing configuration '" + source + "': " + e.getMessage());
      return 1;
    }
    String mode = options.mode;
    String nodeId = options.serviceNode.isEmpty() ? bootstrap.getNode().getId() : options.serviceNode;
    if (mode == null && nodeId.startsWith("sidecar~")) {
      mode = "sidecar";
    } else if (mode == null && nodeId.startsWith("waypoint~")) {
      mode = "waypoint";
    }
    FilterRegistry filters;
    if ("sidecar".equals(mode)) {
      filters = SidecarAssembly.filters();
      logger.info("mode sidecar: capture and Istio defaults are not assembled yet; serving the bootstrap as given");
    } else if ("waypoint".equals(mode)) {
      filters = WaypointAssembly.filters();
      logger.info("mode waypoint: HBONE is not assembled yet; serving the bootstrap as given");
    } else {
      filters = BuiltinFilters.registry();
    }
    Server server;
    try {
      server = new Server(options, bootstrap, filters);
    } catch (ConfigException e) {
      System.err.println("error: initializing configuration '" + source + "': " + e.getMessage());
      return 1;
    }
    // SIGTERM and SIGINT drain and then exit 0, as Envoy does; a JVM shutdown hook alone would exit 143
    for (String sig : new String[] {"TERM", "INT"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> new Thread(server::shutdown, "bowline-sig" + sig).start());
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "bowline-shutdown"));
    try {
      server.start();
    } catch (java.io.IOException e) {
      System.err.println("error: " + e.getMessage());
      return 1;
    }
    server.awaitStopped();
    return 0;
  }
}
