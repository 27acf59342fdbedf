package io.bowline.filters.jwt;

import com.nimbusds.jose.jwk.JWKSet;
import io.bowline.core.filter.ClusterDirectory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider's keys: {@code local_jwks} (fixed), or {@code remote_jwks} fetched through its cluster, never on an
 * event loop, cached for {@code cache_duration}, and fetched again — at most once per {@link #MIN_REFETCH_MS} — when a
 * token names a key id the cached set lacks. Only the configured URI is ever fetched: nothing a token says (jku, x5u)
 * leads anywhere.
 */
abstract class JwksSource {
  static final long MIN_REFETCH_MS = 30_000;
  /** A JWK set larger than this is refused, and the keys held before are kept (HOSTILE-INPUTS JWT-16). */
  static final int MAX_JWKS_CHARS = 512 * 1024;

  /** The keys now, or null when they must be fetched first. */
  abstract @Nullable JWKSet current();

  /** Asks for the keys (again, when {@code unknownKid}); {@code done} runs on {@code executor} once they are in. */
  abstract void refresh(boolean unknownKid, Executor executor, Runnable done);

  static JwksSource fixed(JWKSet keys) {
    return new JwksSource() {
      @Override
      JWKSet current() {
        return keys;
      }

      @Override
      void refresh(boolean unknownKid, Executor executor, Runnable done) {
        executor.execute(done);
      }
    };
  }

  static JwksSource remote(String cluster, String path, long timeoutMs, long cacheMs, ClusterDirectory clusters) {
    return new Remote(cluster, path, timeoutMs, cacheMs, clusters);
  }

  private static final class Remote extends JwksSource {
    private static final Logger logger = LoggerFactory.getLogger(JwksSource.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    /** Where fetches start (the request is then asynchronous): one daemon thread for the process. */
    private static final java.util.concurrent.Executor FETCHES = java.util.concurrent.Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(r, "bowline-jwks-fetch");
          t.setDaemon(true);
          return t;
        });

    private final String cluster;
    private final String path;
    private final long timeoutMs;
    private final long cacheMs;
    private final ClusterDirectory clusters;
    private volatile @Nullable JWKSet keys;
    private volatile long fetchedAtNanos;
    private final List<Runnable> waiting = new ArrayList<>();
    private boolean fetching;

    Remote(String cluster, String path, long timeoutMs, long cacheMs, ClusterDirectory clusters) {
      this.cluster = cluster;
      this.path = path;
      this.timeoutMs = timeoutMs;
      this.cacheMs = cacheMs;
      this.clusters = clusters;
    }

    @Override
    @Nullable JWKSet current() {
      JWKSet k = keys;
      return k != null && (System.nanoTime() - fetchedAtNanos) / 1_000_000 < cacheMs ? k : null;
    }

    @Override
    void refresh(boolean unknownKid, Executor executor, Runnable done) {
      Runnable onLoop = () -> executor.execute(done);
      synchronized (this) {
        if (unknownKid && keys != null && (System.nanoTime() - fetchedAtNanos) / 1_000_000 < MIN_REFETCH_MS) {
          onLoop.run(); // fetched moments ago: a kid it lacks is the token's problem, not a rotation
          return;
        }
        waiting.add(onLoop);
        if (fetching) {
          return;
        }
        fetching = true;
      }
      FETCHES.execute(this::fetch); // the HTTP client's first use starts threads and loads classes: not on a loop
    }

    private void fetch() {
      List<InetSocketAddress> hosts = clusters.hosts(cluster);
      if (hosts.isEmpty()) {
        finish(null, "cluster " + cluster + " has no hosts");
        return;
      }
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://"
          + io.netty.util.NetUtil.toSocketAddressString(hosts.get(0)) + path))
          .timeout(Duration.ofMillis(timeoutMs)).GET().build();
      HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((r, err) -> {
        if (err != null) {
          finish(null, err.toString());
        } else if (r.statusCode() != 200) {
          finish(null, "status " + r.statusCode());
        } else if (r.body().length() > MAX_JWKS_CHARS) {
          finish(null, "a JWKS of " + r.body().length() + " characters is over the " + MAX_JWKS_CHARS + " cap");
        } else {
          try {
            finish(JWKSet.parse(r.body()), null);
          } catch (java.text.ParseException e) {
            finish(null, "not a JWK set: " + e.getMessage());
          }
        }
      });
    }

    private void finish(@Nullable JWKSet fetched, @Nullable String error) {
      List<Runnable> run;
      synchronized (this) {
        if (fetched != null) {
          keys = fetched;
          fetchedAtNanos = System.nanoTime();
        }
        fetching = false;
        run = new ArrayList<>(waiting);
        waiting.clear();
      }
      if (error != null) {
        logger.warn("jwt_authn: fetching the JWKS from cluster {}{} failed: {}", cluster, path, error);
      }
      run.forEach(Runnable::run);
    }

    /** Stale keys are still better than none when a refetch failed (Envoy keeps serving the cached set). */
    @Nullable JWKSet anyKeys() {
      return keys;
    }
  }

  /** The keys to verify with: current ones, else any cached (a failed refetch), else null. */
  @Nullable JWKSet usable() {
    JWKSet c = current();
    return c != null ? c : this instanceof Remote r ? r.anyKeys() : null;
  }
}
