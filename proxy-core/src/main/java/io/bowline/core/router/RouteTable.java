package io.bowline.core.router;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A route configuration with its virtual hosts indexed by Envoy's domain precedence: exact names, then suffix
 * wildcards ({@code *.example.com}, longest first), then prefix wildcards ({@code example.*}, longest first), then
 * {@code *}. Host names match case-insensitively, with the port as written.
 */
public final class RouteTable {
  private final String name;
  private final boolean ignorePort;
  private final List<String> internalOnlyHeaders;
  private final List<VirtualHost> virtualHosts;
  private final Map<String, VirtualHost> exact;
  private final List<Map.Entry<String, VirtualHost>> suffixes;
  private final List<Map.Entry<String, VirtualHost>> prefixes;
  private final @Nullable VirtualHost catchAll;
  private final HeaderMutation requestHeaders;
  private final HeaderMutation responseHeaders;

  public RouteTable(String name, List<VirtualHost> virtualHosts, HeaderMutation requestHeaders,
      HeaderMutation responseHeaders) {
    this(name, virtualHosts, requestHeaders, responseHeaders, false);
  }

  /** {@code ignorePort}: ignore_port_in_host_matching, a port in the Host header plays no part in choosing. */
  public RouteTable(String name, List<VirtualHost> virtualHosts, HeaderMutation requestHeaders,
      HeaderMutation responseHeaders, boolean ignorePort) {
    this(name, virtualHosts, requestHeaders, responseHeaders, ignorePort, List.of());
  }

  /** {@code internalOnlyHeaders}: internal_only_headers, removed from external requests. */
  public RouteTable(String name, List<VirtualHost> virtualHosts, HeaderMutation requestHeaders,
      HeaderMutation responseHeaders, boolean ignorePort, List<String> internalOnlyHeaders) {
    this.internalOnlyHeaders = List.copyOf(internalOnlyHeaders);
    this.ignorePort = ignorePort;
    this.name = name;
    this.virtualHosts = List.copyOf(virtualHosts);
    this.requestHeaders = requestHeaders;
    this.responseHeaders = responseHeaders;
    Map<String, VirtualHost> ex = new HashMap<>();
    List<Map.Entry<String, VirtualHost>> suf = new ArrayList<>();
    List<Map.Entry<String, VirtualHost>> pre = new ArrayList<>();
    VirtualHost star = null;
    for (VirtualHost vh : virtualHosts) {
      for (String d : vh.domains()) {
        String domain = d.toLowerCase(Locale.ROOT);
        if (domain.equals("*")) {
          star = vh;
        } else if (domain.startsWith("*")) {
          suf.add(Map.entry(domain.substring(1), vh));
        } else if (domain.endsWith("*")) {
          pre.add(Map.entry(domain.substring(0, domain.length() - 1), vh));
        } else {
          ex.put(domain, vh);
        }
      }
    }
    Comparator<Map.Entry<String, VirtualHost>> longestFirst =
        Comparator.comparingInt((Map.Entry<String, VirtualHost> e) -> e.getKey().length()).reversed();
    suf.sort(longestFirst);
    pre.sort(longestFirst);
    this.exact = Map.copyOf(ex);
    this.suffixes = List.copyOf(suf);
    this.prefixes = List.copyOf(pre);
    this.catchAll = star;
  }

  public String name() {
    return name;
  }

  public List<String> internalOnlyHeaders() {
    return internalOnlyHeaders;
  }

  public List<VirtualHost> virtualHosts() {
    return virtualHosts;
  }

  public HeaderMutation requestHeaders() {
    return requestHeaders;
  }

  public HeaderMutation responseHeaders() {
    return responseHeaders;
  }

  /** {@code host} without a trailing {@code :port} ({@code [v6]:port} keeps its brackets). */
  static String withoutPort(String host) {
    int colon = host.lastIndexOf(':');
    if (colon < 0 || colon == host.length() - 1 || host.indexOf(']', colon) >= 0
        || (host.charAt(0) != '[' && host.indexOf(':') != colon)) {
      return host; // no port, or a bare IPv6 address
    }
    for (int i = colon + 1; i < host.length(); i++) {
      if (host.charAt(i) < '0' || host.charAt(i) > '9') {
        return host;
      }
    }
    return host.substring(0, colon);
  }

  /** The virtual host for a Host/:authority value, or null: Envoy then answers 404 (NR). */
  public @Nullable VirtualHost virtualHost(@Nullable CharSequence host) {
    if (host == null || host.length() == 0) {
      return catchAll;
    }
    if (exact.isEmpty() && suffixes.isEmpty() && prefixes.isEmpty()) {
      return catchAll; // the common single "*" vhost: the Host needs no String, no lower-casing
    }
    String text = host.toString();
    String h = (ignorePort ? withoutPort(text) : text).toLowerCase(Locale.ROOT);
    VirtualHost vh = exact.get(h);
    if (vh != null) {
      return vh;
    }
    for (int i = 0; i < suffixes.size(); i++) {
      Map.Entry<String, VirtualHost> e = suffixes.get(i);
      // "*.foo.com" needs at least one character before ".foo.com"; "*-bar.foo.com" likewise
      if (h.length() > e.getKey().length() && h.endsWith(e.getKey())) {
        return e.getValue();
      }
    }
    for (int i = 0; i < prefixes.size(); i++) {
      Map.Entry<String, VirtualHost> e = prefixes.get(i);
      if (h.length() > e.getKey().length() && h.startsWith(e.getKey())) {
        return e.getValue();
      }
    }
    return catchAll;
  }
}
