package io.bowline.filters.fault;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Gauge;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code envoy.filters.http.fault}: delays and aborts injected into a share of requests, configured on the
 * connection manager and overridden per route ({@code typed_per_filter_config}), as Istio's VirtualService
 * {@code fault} compiles to.
 */
public final class FaultFilterFactory implements HttpFilterFactory<HTTPFault> {
  @Override
  public String name() {
    return "envoy.filters.http.fault";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.http.fault.v3.HTTPFault";
  }

  @Override
  public Class<HTTPFault> configType() {
    return HTTPFault.class;
  }

  @Override
  public HTTPFault defaultConfig() {
    return HTTPFault.getDefaultInstance();
  }

  @Override
  public HttpFilterProvider create(HTTPFault config, FactoryContext context) throws ConfigException {
    FaultConfig base = compile(config, context.fieldPath() + ".typed_config");
    String prefix = "fault." + context.stats().prefix().replaceFirst("^http\\.", "");
    var scope = context.stats().stats().scope(prefix);
    Stats stats = new Stats(scope.counter("delays_injected"), scope.counter("aborts_injected"),
        scope.counter("response_rl_injected"), scope.counter("faults_overflow"), scope.gauge("active_faults"),
        new AtomicLong());
    String filterName = context.filterName();
    return callbacks -> new FaultFilter(base, filterName, stats, callbacks);
  }

  @Override
  public Object routeConfig(Any typedConfig, String path) throws ConfigException {
    try {
      return compile(typedConfig.unpack(HTTPFault.class), path);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "expected HTTPFault: " + e.getMessage(), e);
    }
  }

  /** The filter's counters, shared by every stream of one connection manager. */
  record Stats(Counter delaysInjected, Counter abortsInjected, Counter responseRlInjected, Counter overflow,
      Gauge activeFaults, AtomicLong active) {}

  static FaultConfig compile(HTTPFault f, String path) throws ConfigException {
    FaultConfig.ResponseRateLimit rateLimit = null;
    if (f.hasResponseRateLimit()) {
      var r = f.getResponseRateLimit();
      String rp = path + ".response_rate_limit";
      int pm = perMillion(r.getPercentage(), rp + ".percentage", r.hasPercentage());
      if (r.hasHeaderLimit()) {
        rateLimit = new FaultConfig.ResponseRateLimit(0, true, pm);
      } else if (r.hasFixedLimit()) {
        if (r.getFixedLimit().getLimitKbps() < 1) {
          throw new ConfigException(rp + ".fixed_limit.limit_kbps", "must be at least 1");
        }
        rateLimit = new FaultConfig.ResponseRateLimit(r.getFixedLimit().getLimitKbps(), false, pm);
      } else {
        throw new ConfigException(rp, "fixed_limit or header_limit is required");
      }
    }
    FaultConfig.Delay delay = null;
    if (f.hasDelay()) {
      var d = f.getDelay();
      String dp = path + ".delay";
      if (d.hasHeaderDelay()) {
        delay = new FaultConfig.Delay(0, true, perMillion(d.getPercentage(), dp + ".percentage", d.hasPercentage()));
      } else if (d.hasFixedDelay()) {
        long ms = d.getFixedDelay().getSeconds() * 1000 + d.getFixedDelay().getNanos() / 1_000_000;
        delay = new FaultConfig.Delay(ms, false, perMillion(d.getPercentage(), dp + ".percentage", d.hasPercentage()));
      } else {
        throw new ConfigException(dp, "fixed_delay or header_delay is required");
      }
    }
    FaultConfig.Abort abort = null;
    if (f.hasAbort()) {
      var a = f.getAbort();
      String ap = path + ".abort";
      int pm = perMillion(a.getPercentage(), ap + ".percentage", a.hasPercentage());
      abort = switch (a.getErrorTypeCase()) {
        case HTTP_STATUS -> {
          if (a.getHttpStatus() < 200 || a.getHttpStatus() >= 600) {
            throw new ConfigException(ap + ".http_status", "must be in [200, 600), got " + a.getHttpStatus());
          }
          yield new FaultConfig.Abort(a.getHttpStatus(), null, false, pm);
        }
        case GRPC_STATUS -> new FaultConfig.Abort(200, a.getGrpcStatus(), false, pm);
        case HEADER_ABORT -> new FaultConfig.Abort(0, null, true, pm);
        default -> throw new ConfigException(ap, "http_status, grpc_status or header_abort is required");
      };
    }
    List<HeaderMatcher> headers = new ArrayList<>();
    for (int i = 0; i < f.getHeadersCount(); i++) {
      headers.add(io.bowline.core.compile.HeaderMatchers.compile(f.getHeaders(i), path + ".headers[" + i + "]"));
    }
    return new FaultConfig(delay, abort, rateLimit, f.getUpstreamCluster().isEmpty() ? null : f.getUpstreamCluster(), headers,
        f.getDownstreamNodesList(), f.hasMaxActiveFaults() ? f.getMaxActiveFaults().getValue() : Long.MAX_VALUE);
  }

  /** Envoy's default for an absent percentage is 100%. */
  static int perMillion(FractionalPercent p, String path, boolean present) throws ConfigException {
    return present ? io.bowline.core.compile.Fractions.perMillion(p, path) : 1_000_000;
  }
}
