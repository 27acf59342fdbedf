package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code rate_limits} (on a route action, a virtual host, or a rate-limit filter), compiled. Each entry turns
 * a request into one descriptor — a list of key/value entries, one per action — or into none when an action cannot
 * produce its entry (a missing header without {@code skip_if_absent}, a header match that fails). The local and the
 * global rate-limit filters look their limits up by these descriptors.
 */
public record RateLimitPolicy(List<Limit> limits) {
  public static final RateLimitPolicy NONE = new RateLimitPolicy(List.of());

  public RateLimitPolicy {
    limits = List.copyOf(limits);
  }

  public boolean isEmpty() {
    return limits.isEmpty();
  }

  /** One {@code RateLimit}: the descriptor its actions build, for filters configured with its {@code stage}. */
  public record Limit(int stage, List<Action> actions) {
    public Limit {
      actions = List.copyOf(actions);
    }
  }

  /** One descriptor entry. */
  public record Entry(String key, String value) {}

  /** What the actions read of a request. */
  public interface Request {
    HttpHeaders headers();

    /** Method, path and scheme, for header actions and matchers on pseudo-headers. */
    RequestLine line();

    /** The client's address as Envoy trusts it (x-forwarded-for per xff_num_trusted_hops, else the peer). */
    InetSocketAddress trustedClient();

    /** The cluster the request goes to (the weighted pick made for it), or null when none. */
    @Nullable String destinationCluster();

    /** The raw query string (without '?'), or null. */
    @Nullable String query();
  }

  /** One action: adds its entry to {@code out} (or none) and says whether the descriptor survives. */
  public interface Action {
    boolean append(Request r, List<Entry> out);
  }

  /** The descriptors of the limits at {@code stage}, in configuration order. */
  public List<List<Entry>> descriptors(int stage, Request r) {
    List<List<Entry>> out = new ArrayList<>(limits.size());
    for (Limit l : limits) {
      if (l.stage() != stage) {
        continue;
      }
      List<Entry> entries = new ArrayList<>(l.actions().size());
      boolean kept = true;
      for (Action a : l.actions()) {
        if (!a.append(r, entries)) {
          kept = false;
          break;
        }
      }
      if (kept && !entries.isEmpty()) {
        out.add(List.copyOf(entries));
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------ the actions

  /** {@code destination_cluster}. */
  public record DestinationCluster() implements Action {
    @Override
    public boolean append(Request r, List<Entry> out) {
      String c = r.destinationCluster();
      if (c == null) {
        return false;
      }
      out.add(new Entry("destination_cluster", c));
      return true;
    }
  }

  /** {@code request_headers}: the header's (first) value under {@code key}; pseudo-headers read the request line. */
  public record RequestHeader(String header, String key, boolean skipIfAbsent) implements Action {
    @Override
    public boolean append(Request r, List<Entry> out) {
      String v = header.startsWith(":") ? pseudo(r) : r.headers().get(header);
      if (v == null || v.isEmpty()) {
        return skipIfAbsent;
      }
      out.add(new Entry(key, v));
      return true;
    }

    private @Nullable String pseudo(Request r) {
      return header.equals(":authority") ? r.headers().get("host") : r.line().pseudo(header);
    }
  }

  /** {@code query_parameters}: the parameter's first value under {@code key}. */
  public record QueryParameter(String name, String key, boolean skipIfAbsent) implements Action {
    @Override
    public boolean append(Request r, List<Entry> out) {
      String v = QueryParameterMatcher.firstValue(r.query(), name);
      if (v == null || v.isEmpty()) {
        return skipIfAbsent;
      }
      out.add(new Entry(key, v));
      return true;
    }
  }

  /** {@code remote_address}: the trusted client IP. */
  public record RemoteAddress() implements Action {
    @Override
    public boolean append(Request r, List<Entry> out) {
      InetSocketAddress a = r.trustedClient();
      if (a.getAddress() == null) {
        return false;
      }
      out.add(new Entry("remote_address", io.bowline.core.transport.AddressText.ip(a)));
      return true;
    }
  }

  /** {@code generic_key}. */
  public record GenericKey(String key, String value) implements Action {
    @Override
    public boolean append(Request r, List<Entry> out) {
      out.add(new Entry(key, value));
      return true;
    }
  }

  /** {@code header_value_match}: the entry when all matchers match (or, with expect_match false, when not all do). */
  public record HeaderValueMatch(String key, String value, boolean expectMatch, List<HeaderMatcher> headers)
      implements Action {
    @Override
    public boolean append(Request r, List<Entry> out) {
      boolean all = true;
      for (HeaderMatcher m : headers) {
        if (!m.matches(r.headers(), r.line())) {
          all = false;
          break;
        }
      }
      if (all != expectMatch) {
        return false;
      }
      out.add(new Entry(key, value));
      return true;
    }
  }
}
