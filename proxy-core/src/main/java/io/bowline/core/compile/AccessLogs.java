package io.bowline.core.compile;

import com.google.protobuf.Struct;
import io.bowline.core.accesslog.AccessLogger;
import io.bowline.core.accesslog.LogFilter;
import io.bowline.core.accesslog.LogFormat;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.router.RequestLine;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntPredicate;

/**
 * {@code access_log} of the HCM, tcp_proxy and listeners into {@link AccessLogger}s: the file and stdout/stderr
 * loggers, Envoy's text and JSON formats, and the access-log filters.
 */
public final class AccessLogs {
  private AccessLogs() {}

  private static final String FILE = "envoy.extensions.access_loggers.file.v3.FileAccessLog";
  private static final String STDOUT = "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
  private static final String STDERR = "envoy.extensions.access_loggers.stream.v3.StderrAccessLog";

  /** The loggers of a repeated {@code access_log} field at {@code path}. */
  static List<AccessLogger> compile(List<AccessLog> logs, String path, CompileContext ctx) throws ConfigException {
    List<AccessLogger> out = new ArrayList<>(logs.size());
    for (int i = 0; i < logs.size(); i++) {
      AccessLogger l = compile(logs.get(i), path + "[" + i + "]", ctx);
      if (l != null) {
        out.add(l);
      }
    }
    return List.copyOf(out);
  }

  private static @org.jspecify.annotations.Nullable AccessLogger compile(AccessLog a, String path, CompileContext ctx)
      throws ConfigException {
    Fields.allow(a, path, "name", "filter", "typed_config");
    String type = a.hasTypedConfig() ? Fields.typeName(a.getTypedConfig()) : legacyName(a.getName());
    String tp = path + ".typed_config";
    String destination;
    LogFormat format;
    switch (type) {
      case FILE -> {
        FileAccessLog f = Fields.unpack(a.getTypedConfig(), FileAccessLog.class, tp);
        Fields.allow(f, tp, "path", "format", "json_format", "typed_json_format", "log_format");
        if (f.getPath().isEmpty()) {
          throw new ConfigException(tp + ".path", "required");
        }
        destination = f.getPath();
        format = switch (f.getAccessLogFormatCase()) {
          case FORMAT -> text(f.getFormat(), false, tp + ".format");
          case JSON_FORMAT -> json(f.getJsonFormat(), false, false, false, tp + ".json_format");
          case TYPED_JSON_FORMAT -> json(f.getTypedJsonFormat(), true, false, false, tp + ".typed_json_format");
          case LOG_FORMAT -> format(f.getLogFormat(), tp + ".log_format", ctx);
          default -> text(LogFormat.ENVOY_DEFAULT, false, tp);
        };
      }
      case STDOUT, STDERR -> {
        com.google.protobuf.Message m = type.equals(STDOUT)
            ? Fields.unpack(a.getTypedConfig(), StdoutAccessLog.class, tp)
            : Fields.unpack(a.getTypedConfig(), StderrAccessLog.class, tp);
        Fields.allow(m, tp, "log_format");
        destination = type.equals(STDOUT) ? "/dev/stdout" : "/dev/stderr";
        boolean has = m instanceof StdoutAccessLog s ? s.hasLogFormat() : ((StderrAccessLog) m).hasLogFormat();
        SubstitutionFormatString sfs = m instanceof StdoutAccessLog s ? s.getLogFormat()
            : ((StderrAccessLog) m).getLogFormat();
        format = has ? format(sfs, tp + ".log_format", ctx) : text(LogFormat.ENVOY_DEFAULT, false, tp);
      }
      default -> {
        if (Fields.ignored(tp, "access logger " + type + " is not supported by bowline yet")) {
          return null;
        }
        throw new ConfigException(tp, "access logger " + type + " is not supported by bowline yet");
      }
    }
    LogFilter filter = a.hasFilter() ? filter(a.getFilter(), path + ".filter") : null;
    try {
      return new AccessLogger(filter, format, ctx.accessLogWriter().destination(destination));
    } catch (java.io.IOException e) {
      throw new ConfigException(tp + ".path", "cannot open access log " + destination + ": " + e.getMessage(), e);
    }
  }

  private static String legacyName(String name) {
    return switch (name) {
      case "envoy.access_loggers.file", "envoy.file_access_log" -> FILE;
      case "envoy.access_loggers.stdout" -> STDOUT;
      case "envoy.access_loggers.stderr" -> STDERR;
      default -> name;
    };
  }

  /** {@code config.core.v3.SubstitutionFormatString}: the format of a log line (also used by local replies). */
  static LogFormat format(SubstitutionFormatString s, String path, CompileContext ctx) throws ConfigException {
    Fields.allow(s, path, "text_format", "json_format", "text_format_source", "omit_empty_values", "content_type",
        "formatters", "json_format_options");
    if (s.getFormattersCount() > 0) {
      throw new ConfigException(path + ".formatters[0]", "formatter extensions are not supported by bowline yet");
    }
    return switch (s.getFormatCase()) {
      case TEXT_FORMAT -> text(s.getTextFormat(), s.getOmitEmptyValues(), path + ".text_format");
      case TEXT_FORMAT_SOURCE -> text(new String(DataSources.read(s.getTextFormatSource(),
          path + ".text_format_source"), StandardCharsets.UTF_8), s.getOmitEmptyValues(),
          path + ".text_format_source");
      case JSON_FORMAT -> json(s.getJsonFormat(), true, s.getOmitEmptyValues(),
          s.getJsonFormatOptions().getSortProperties(), path + ".json_format");
      default -> throw new ConfigException(path, "one of text_format, text_format_source or json_format is required");
    };
  }

  private static LogFormat text(String format, boolean omitEmpty, String path) throws ConfigException {
    try {
      return LogFormat.text(format, omitEmpty);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path, e.getMessage(), e);
    }
  }

  private static LogFormat json(Struct format, boolean typed, boolean omitEmpty, boolean sort, String path)
      throws ConfigException {
    try {
      return LogFormat.json(format, typed, omitEmpty, sort);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path, e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------ filters

  static LogFilter filter(AccessLogFilter f, String path) throws ConfigException {
    Fields.allow(f, path, "status_code_filter", "duration_filter", "not_health_check_filter", "traceable_filter",
        "runtime_filter", "and_filter", "or_filter", "header_filter", "response_flag_filter", "grpc_status_filter",
        "log_type_filter");
    switch (f.getFilterSpecifierCase()) {
      case STATUS_CODE_FILTER -> {
        IntPredicate p = comparison(f.getStatusCodeFilter().getComparison(), path + ".status_code_filter.comparison");
        return x -> p.test(x.responseCode);
      }
      case DURATION_FILTER -> {
        IntPredicate p = comparison(f.getDurationFilter().getComparison(), path + ".duration_filter.comparison");
        return x -> p.test((int) Math.min(Integer.MAX_VALUE, x.durationNanos / 1_000_000));
      }
      case NOT_HEALTH_CHECK_FILTER -> {
        return x -> !x.healthCheck;
      }
      case TRACEABLE_FILTER -> {
        return x -> x.trace != null && x.trace.sampled(); // Envoy's "traceable": this request's span is sampled
      }
      case RUNTIME_FILTER -> {
        var r = f.getRuntimeFilter();
        String rp = path + ".runtime_filter";
        Fields.allow(r, rp, "runtime_key", "percent_sampled", "use_independent_randomness");
        int perMillion = r.hasPercentSampled() ? Fractions.perMillion(r.getPercentSampled(), rp + ".percent_sampled")
            : 0; // the runtime key's value; bowline has no runtime layer, so an unset default samples nothing
        boolean independent = r.getUseIndependentRandomness();
        return x -> {
          // as Envoy: the request id's number (its first eight hex digits), at random when there is none
          long id = independent ? -1 : io.bowline.core.filter.RequestIds.integer(x.requestHeader("x-request-id"));
          int draw = id >= 0 ? (int) (id % 1_000_000) : ThreadLocalRandom.current().nextInt(1_000_000);
          return draw < perMillion;
        };
      }
      case AND_FILTER, OR_FILTER -> {
        boolean and = f.hasAndFilter();
        var subs = and ? f.getAndFilter().getFiltersList() : f.getOrFilter().getFiltersList();
        String sp = path + (and ? ".and_filter.filters" : ".or_filter.filters");
        if (subs.size() < 2) {
          throw new ConfigException(sp, "at least two filters are required");
        }
        LogFilter[] parts = new LogFilter[subs.size()];
        for (int i = 0; i < parts.length; i++) {
          parts[i] = filter(subs.get(i), sp + "[" + i + "]");
        }
        return and ? x -> {
          for (LogFilter p : parts) {
            if (!p.test(x)) {
              return false;
            }
          }
          return true;
        } : x -> {
          for (LogFilter p : parts) {
            if (p.test(x)) {
              return true;
            }
          }
          return false;
        };
      }
      case HEADER_FILTER -> {
        HeaderMatcher m = HeaderMatchers.compile(f.getHeaderFilter().getHeader(), path + ".header_filter.header");
        return x -> x.requestHeaders != null && m.matches(x.requestHeaders,
            RequestLine.of(x.method == null ? "" : x.method, x.path == null ? "" : x.path,
                x.scheme == null ? "http" : x.scheme));
      }
      case RESPONSE_FLAG_FILTER -> {
        List<String> flags = f.getResponseFlagFilter().getFlagsList();
        for (int i = 0; i < flags.size(); i++) {
          if (!io.bowline.core.accesslog.ResponseFlagNames.known(flags.get(i))) {
            throw new ConfigException(path + ".response_flag_filter.flags[" + i + "]",
                "unknown response flag '" + flags.get(i) + "'");
          }
        }
        String[] wanted = flags.toArray(new String[0]);
        return x -> {
          if (x.responseFlags.equals("-")) {
            return false;
          }
          if (wanted.length == 0) {
            return true; // no flags named: any flag passes
          }
          for (String w : wanted) {
            if (io.bowline.core.accesslog.ResponseFlagNames.has(x.responseFlags, w)) {
              return true;
            }
          }
          return false;
        };
      }
      case GRPC_STATUS_FILTER -> {
        var g = f.getGrpcStatusFilter();
        Set<Integer> statuses = new HashSet<>();
        for (var s : g.getStatusesList()) {
          statuses.add(s.getNumber());
        }
        boolean exclude = g.getExclude();
        return x -> {
          if (x.grpcStatus < 0) {
            return exclude; // not gRPC: Envoy logs it only when the filter excludes
          }
          return statuses.contains(x.grpcStatus) != exclude;
        };
      }
      case LOG_TYPE_FILTER -> {
        var t = f.getLogTypeFilter();
        Set<String> types = new HashSet<>();
        for (var ty : t.getTypesList()) {
          types.add(ty.name());
        }
        boolean exclude = t.getExclude();
        return x -> types.contains(x.type.envoyName()) != exclude;
      }
      default -> throw new ConfigException(path, "access log filter " + f.getFilterSpecifierCase()
          .name().toLowerCase(java.util.Locale.ROOT) + " is not supported by bowline yet");
    }
  }

  private static IntPredicate comparison(ComparisonFilter c, String path) throws ConfigException {
    Fields.allow(c, path, "op", "value");
    if (!c.hasValue()) {
      throw new ConfigException(path + ".value", "required");
    }
    int v = c.getValue().getDefaultValue();
    return switch (c.getOp()) {
      case EQ -> x -> x == v;
      case GE -> x -> x >= v;
      case LE -> x -> x <= v;
      default -> throw new ConfigException(path + ".op", "unknown comparison");
    };
  }
}
