package io.bowline.core.boot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's command line, so that tools written to start Envoy can start bowline. Flags that have no effect in bowline
 * are accepted and listed in {@link #ignored()} so the log can say so once.
 */
public final class Options {
  public @Nullable String configPath;
  public @Nullable String configYaml;
  public String serviceNode = "";
  public String serviceCluster = "";
  public int concurrency = Runtime.getRuntime().availableProcessors();
  public String logLevel = "info";
  public String componentLogLevel = "";
  public long drainTimeSeconds = 600;
  public long parentShutdownTimeSeconds = 900;
  public String localAddressIpVersion = "v4";
  public boolean allowUnknownStaticFields;
  public long fileFlushIntervalMs = 10_000;
  public @Nullable String mode;
  public @Nullable String adminAddressPath;
  public boolean version;
  public boolean help;
  public String drainStrategy = "gradual";
  private final List<String> ignored = new ArrayList<>();
  private final Map<String, Object> given = new LinkedHashMap<>();

  /** Thrown for a command line that cannot be understood; its message is the one line to print. */
  public static final class UsageException extends Exception {
    public UsageException(String message) {
      super(message);
    }
  }

  public static Options parse(String... args) throws UsageException {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        value = arg.substring(eq + 1);
        arg = arg.substring(0, eq);
      }
      switch (arg) {
        case "-c", "--config-path" -> o.configPath = value != null ? value : next(args, ++i, arg);
        case "--config-yaml" -> o.configYaml = value != null ? value : next(args, ++i, arg);
        case "--service-node" -> o.serviceNode = value != null ? value : next(args, ++i, arg);
        case "--service-cluster" -> o.serviceCluster = value != null ? value : next(args, ++i, arg);
        case "--service-zone" -> o.ignore(arg, value != null ? value : next(args, ++i, arg));
        case "--concurrency" -> o.concurrency = intValue(arg, value != null ? value : next(args, ++i, arg), 1);
        case "-l", "--log-level" -> o.logLevel = value != null ? value : next(args, ++i, arg);
        case "--component-log-level" -> o.componentLogLevel = value != null ? value : next(args, ++i, arg);
        case "--drain-time-s" -> o.drainTimeSeconds = intValue(arg, value != null ? value : next(args, ++i, arg), 0);
        case "--drain-strategy" -> o.drainStrategy = value != null ? value : next(args, ++i, arg);
        case "--parent-shutdown-time-s" -> {
          o.parentShutdownTimeSeconds = intValue(arg, value != null ? value : next(args, ++i, arg), 0);
          o.ignored.add(arg + " (no hot restart: there is no parent to shut down)");
        }
        case "--local-address-ip-version" -> {
          o.localAddressIpVersion = value != null ? value : next(args, ++i, arg);
          if (!o.localAddressIpVersion.equals("v4") && !o.localAddressIpVersion.equals("v6")) {
            throw new UsageException(arg + ": expected v4 or v6, got " + o.localAddressIpVersion);
          }
        }
        case "--base-id" -> o.ignore(arg, value != null ? value : next(args, ++i, arg));
        case "--disable-hot-restart" -> o.ignored.add(arg + " (hot restart is never enabled)");
        case "--allow-unknown-static-fields" -> o.allowUnknownStaticFields = true;
        case "--reject-unknown-dynamic-fields", "--ignore-unknown-dynamic-fields" -> o.ignored.add(arg);
        case "--file-flush-interval-msec" ->
            o.fileFlushIntervalMs = intValue(arg, value != null ? value : next(args, ++i, arg), 1);
        case "--log-format", "--log-path" -> o.ignore(arg, value != null ? value : next(args, ++i, arg));
        case "--mode" -> {
          o.mode = value != null ? value : next(args, ++i, arg);
          if (!o.mode.equals("sidecar") && !o.mode.equals("waypoint")) {
            throw new UsageException("--mode: expected sidecar or waypoint, got " + o.mode);
          }
        }
        case "--admin-address-path" -> o.adminAddressPath = value != null ? value : next(args, ++i, arg);
        case "--version" -> o.version = true;
        case "-h", "--help" -> o.help = true;
        default -> throw new UsageException("unknown option " + arg + " (see --help)");
      }
      o.given.put(arg.replaceFirst("^-+", "").replace('-', '_'), value != null ? value
          : i < args.length && !args[i].startsWith("-") ? args[i] : true);
    }
    return o;
  }

  private void ignore(String flag, String value) {
    ignored.add(flag + " " + value);
  }

  private static String next(String[] args, int i, String flag) throws UsageException {
    if (i >= args.length) {
      throw new UsageException(flag + " needs a value");
    }
    return args[i];
  }

  private static int intValue(String flag, String v, int min) throws UsageException {
    try {
      int n = Integer.parseInt(v);
      if (n < min) {
        throw new UsageException(flag + ": must be at least " + min + ", got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException(flag + ": not a number: " + v);
    }
  }

  public List<String> ignored() {
    return ignored;
  }

  /** The options as given, for /server_info. */
  public Map<String, Object> given() {
    return given;
  }

  public static String usage() {
    return """
        usage: bowline [options]
          -c, --config-path FILE        Envoy v3 bootstrap (YAML for .yaml/.yml, else JSON)
          --config-yaml YAML            bootstrap YAML merged over the config file
          --service-node ID             node id (overrides node.id)
          --service-cluster NAME        node cluster (overrides node.cluster)
          --concurrency N               worker event loops (default: number of cores)
          -l, --log-level LEVEL         trace|debug|info|warning|error|critical|off
          --component-log-level C:L,..  per component: upstream, http, router, connection, config, admin, main, ...
          --drain-time-s N              how long draining waits for in-flight requests (default 600)
          --allow-unknown-static-fields warn about unknown bootstrap fields instead of failing
          --file-flush-interval-msec N  access log flush interval (default 10000)
          --mode sidecar|waypoint       deployment mode (accepted; assembled in a later release)
          --admin-address-path FILE     write the admin server's address (ip:port) to FILE once bound
          --version                     print the version
        accepted for Envoy compatibility, without effect: --base-id, --disable-hot-restart,
          --parent-shutdown-time-s, --local-address-ip-version, --service-zone, --log-format, --log-path
        With no config, bowline serves 0.0.0.0:10000 -> 127.0.0.1:8080, admin on 127.0.0.1:9901.
        """;
  }
}
