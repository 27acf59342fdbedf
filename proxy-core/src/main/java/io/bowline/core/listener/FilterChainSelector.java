package io.bowline.core.listener;

import io.bowline.core.config.FilterChainConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Selects a connection's filter chain in Envoy's order of criteria: destination port, destination IP, server name,
 * transport protocol, application protocols, source IP, source port. At each criterion the most specific matching
 * chains survive; chains that leave the criterion empty survive only when no specific one matched. There is no
 * backtracking: a connection that loses every candidate at some step gets the default chain (or is closed).
 */
public final class FilterChainSelector {
  private final List<FilterChainConfig> chains;
  private final @Nullable FilterChainConfig defaultChain;

  public FilterChainSelector(List<FilterChainConfig> chains, @Nullable FilterChainConfig defaultChain) {
    this.chains = List.copyOf(chains);
    this.defaultChain = defaultChain;
  }

  public boolean needsInspection() {
    for (FilterChainConfig c : chains) {
      if (c.match().needsInspection()) {
        return true;
      }
    }
    return false;
  }

  public @Nullable FilterChainConfig select(ConnectionFacts facts) {
    if (chains.size() == 1 && chains.get(0).match().equals(FilterChainMatch.ANY)) {
      return chains.get(0);
    }
    List<FilterChainConfig> c = new ArrayList<>(chains);
    c = byDestinationPort(c, facts.local().getPort());
    c = byPrefix(c, facts.local().getAddress(), true);
    c = byServerName(c, facts.serverName());
    c = byTransport(c, facts.transportProtocol());
    c = byAlpn(c, facts.applicationProtocols());
    c = byPrefix(c, facts.remote().getAddress(), false);
    c = bySourcePort(c, facts.remote().getPort());
    return c.isEmpty() ? defaultChain : c.get(0);
  }

  private static List<FilterChainConfig> byDestinationPort(List<FilterChainConfig> in, int port) {
    List<FilterChainConfig> specific = new ArrayList<>();
    List<FilterChainConfig> any = new ArrayList<>();
    for (FilterChainConfig fc : in) {
      Integer p = fc.match().destinationPort();
      if (p == null) {
        any.add(fc);
      } else if (p == port) {
        specific.add(fc);
      }
    }
    return specific.isEmpty() ? any : specific;
  }

  private static List<FilterChainConfig> byPrefix(List<FilterChainConfig> in, InetAddress addr, boolean destination) {
    int best = -1;
    List<FilterChainConfig> specific = new ArrayList<>();
    List<FilterChainConfig> any = new ArrayList<>();
    for (FilterChainConfig fc : in) {
      List<CidrRange> ranges = destination ? fc.match().prefixRanges() : fc.match().sourcePrefixRanges();
      if (ranges.isEmpty()) {
        any.add(fc);
        continue;
      }
      int len = -1;
      for (CidrRange r : ranges) {
        if (r.contains(addr)) {
          len = Math.max(len, r.length());
        }
      }
      if (len > best) {
        best = len;
        specific.clear();
      }
      if (len >= 0 && len == best) {
        specific.add(fc);
      }
    }
    return specific.isEmpty() ? any : specific;
  }

  private static List<FilterChainConfig> byServerName(List<FilterChainConfig> in, @Nullable String sni) {
    String name = sni == null ? null : sni.toLowerCase(Locale.ROOT);
    int best = -1; // exact match ranks above every wildcard; longer wildcards above shorter
    List<FilterChainConfig> specific = new ArrayList<>();
    List<FilterChainConfig> any = new ArrayList<>();
    for (FilterChainConfig fc : in) {
      List<String> names = fc.match().serverNames();
      if (names.isEmpty()) {
        any.add(fc);
        continue;
      }
      int rank = -1;
      if (name != null) {
        for (String n : names) {
          String pattern = n.toLowerCase(Locale.ROOT);
          if (pattern.equals(name)) {
            rank = Integer.MAX_VALUE;
          } else if (pattern.startsWith("*.") && name.endsWith(pattern.substring(1))
              && name.length() > pattern.length() - 1) {
            rank = Math.max(rank, pattern.length());
          }
        }
      }
      if (rank > best) {
        best = rank;
        specific.clear();
      }
      if (rank >= 0 && rank == best) {
        specific.add(fc);
      }
    }
    return specific.isEmpty() ? any : specific;
  }

  private static List<FilterChainConfig> byTransport(List<FilterChainConfig> in, String transport) {
    List<FilterChainConfig> specific = new ArrayList<>();
    List<FilterChainConfig> any = new ArrayList<>();
    for (FilterChainConfig fc : in) {
      String t = fc.match().transportProtocol();
      if (t == null) {
        any.add(fc);
      } else if (t.equals(transport)) {
        specific.add(fc);
      }
    }
    return specific.isEmpty() ? any : specific;
  }

  private static List<FilterChainConfig> byAlpn(List<FilterChainConfig> in, List<String> offered) {
    List<FilterChainConfig> specific = new ArrayList<>();
    List<FilterChainConfig> any = new ArrayList<>();
    for (FilterChainConfig fc : in) {
      List<String> wanted = fc.match().applicationProtocols();
      if (wanted.isEmpty()) {
        any.add(fc);
        continue;
      }
      for (String w : wanted) {
        if (offered.contains(w)) {
          specific.add(fc);
          break;
        }
      }
    }
    return specific.isEmpty() ? any : specific;
  }

  private static List<FilterChainConfig> bySourcePort(List<FilterChainConfig> in, int port) {
    List<FilterChainConfig> specific = new ArrayList<>();
    List<FilterChainConfig> any = new ArrayList<>();
    for (FilterChainConfig fc : in) {
      List<Integer> ports = fc.match().sourcePorts();
      if (ports.isEmpty()) {
        any.add(fc);
      } else if (ports.contains(port)) {
        specific.add(fc);
      }
    }
    return specific.isEmpty() ? any : specific;
  }
}
