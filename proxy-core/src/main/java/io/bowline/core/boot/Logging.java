package io.bowline.core.boot;

import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.StreamHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Log levels by Envoy's names and components, on java.util.logging (SLF4J's binding in the binary). Components map to
 * bowline's packages, so {@code --component-log-level upstream:debug} and {@code POST /logging?upstream=debug} work.
 */
public final class Logging {
  private static final Map<String, String> COMPONENTS = new LinkedHashMap<>();

  static {
    COMPONENTS.put("admin", "io.bowline.core.admin");
    COMPONENTS.put("config", "io.bowline.core.compile");
    COMPONENTS.put("connection", "io.bowline.core.listener");
    COMPONENTS.put("filter", "io.bowline.core.filter");
    COMPONENTS.put("http", "io.bowline.core.http");
    COMPONENTS.put("main", "io.bowline.core.boot");
    COMPONENTS.put("pool", "io.bowline.core.upstream");
    COMPONENTS.put("router", "io.bowline.core.router");
    COMPONENTS.put("tcp", "io.bowline.core.tcp");
    COMPONENTS.put("upstream", "io.bowline.core.upstream");
    COMPONENTS.put("xds", "io.bowline.xds");
    COMPONENTS.put("netty", "io.netty");
  }

  private static final Logger ROOT = Logger.getLogger("");
  private static final Logger BOWLINE = Logger.getLogger("io.bowline");

  private Logging() {}

  /** One line per record on stderr: {@code [time][level][component] message}. */
  public static void install(String level) {
    for (var h : ROOT.getHandlers()) {
      ROOT.removeHandler(h);
    }
    // a StreamHandler of our own: ConsoleHandler.setOutputStream would close System.err
    StreamHandler h = new StreamHandler(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err),
        true), new java.util.logging.SimpleFormatter()) {
      @Override
      public synchronized void publish(LogRecord record) {
        super.publish(record);
        flush();
      }
    };
    h.setLevel(Level.ALL);
    h.setFormatter(new Formatter() {
      @Override
      public String format(LogRecord r) {
        String msg = formatMessage(r);
        String t = "";
        if (r.getThrown() != null) {
          java.io.StringWriter sw = new java.io.StringWriter();
          r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
          t = "\n" + sw;
        }
        return "[" + Instant.ofEpochMilli(r.getMillis()) + "][" + envoyName(r.getLevel()) + "]["
            + component(r.getLoggerName()) + "] " + msg + t + "\n";
      }
    });
    ROOT.addHandler(h);
    ROOT.setLevel(Level.WARNING);
    Logger.getLogger("io.netty").setLevel(Level.WARNING);
    setAll(level);
  }

  public static boolean setAll(String level) {
    Level l = parse(level);
    if (l == null) {
      return false;
    }
    BOWLINE.setLevel(l);
    for (String pkg : COMPONENTS.values()) {
      if (pkg.startsWith("io.bowline")) {
        Logger.getLogger(pkg).setLevel(null); // inherit from io.bowline
      }
    }
    return true;
  }

  public static boolean set(String component, String level) {
    Level l = parse(level);
    String pkg = COMPONENTS.get(component);
    if (l == null || pkg == null) {
      return false;
    }
    Logger.getLogger(pkg).setLevel(l);
    return true;
  }

  /** Applies {@code --component-log-level a:debug,b:trace}; returns the first bad entry, or null. */
  public static String applyComponents(String spec) {
    if (spec.isBlank()) {
      return null;
    }
    for (String part : spec.split(",")) {
      String[] kv = part.trim().split(":");
      if (kv.length != 2 || !set(kv[0], kv[1])) {
        return part;
      }
    }
    return null;
  }

  public static Map<String, String> levels() {
    Map<String, String> out = new LinkedHashMap<>();
    for (var e : COMPONENTS.entrySet()) {
      Logger lg = Logger.getLogger(e.getValue());
      Level l = lg.getLevel();
      Logger p = lg;
      while (l == null && p.getParent() != null) {
        p = p.getParent();
        l = p.getLevel();
      }
      out.put(e.getKey(), envoyName(l == null ? Level.INFO : l));
    }
    return out;
  }

  public static List<String> components() {
    return List.copyOf(COMPONENTS.keySet());
  }

  private static String component(String logger) {
    if (logger == null) {
      return "main";
    }
    for (var e : COMPONENTS.entrySet()) {
      if (logger.startsWith(e.getValue())) {
        return e.getKey();
      }
    }
    return logger;
  }

  public static boolean parseable(String level) {
    return parse(level) != null;
  }

  static Level parse(String level) {
    return switch (level.toLowerCase(Locale.ROOT)) {
      case "trace" -> Level.FINEST;
      case "debug" -> Level.FINE;
      case "info" -> Level.INFO;
      case "warning", "warn" -> Level.WARNING;
      case "error", "critical" -> Level.SEVERE;
      case "off" -> Level.OFF;
      default -> null;
    };
  }

  static String envoyName(Level l) {
    if (l.intValue() <= Level.FINEST.intValue()) {
      return "trace";
    }
    if (l.intValue() <= Level.FINE.intValue()) {
      return "debug";
    }
    if (l.intValue() <= Level.INFO.intValue()) {
      return "info";
    }
    if (l.intValue() <= Level.WARNING.intValue()) {
      return "warning";
    }
    return l == Level.OFF ? "off" : "error";
  }
}
