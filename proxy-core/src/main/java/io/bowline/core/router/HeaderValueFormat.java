package io.bowline.core.router;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A header value with Envoy's substitution commands ({@code %DOWNSTREAM_REMOTE_ADDRESS%}, {@code %REQ(x-foo)%}, ...),
 * parsed once at compile time into literal and variable parts and rendered per request without parsing. {@code %%}
 * is a literal percent sign.
 */
public final class HeaderValueFormat {
  /** What a request offers the commands. */
  public interface Context {
    InetSocketAddress downstreamRemoteAddress();

    InetSocketAddress downstreamLocalAddress();

    /** "HTTP/1.0", "HTTP/1.1" or "HTTP/2". */
    String protocol();

    @Nullable String requestHeader(String name);
  }

  private enum Var {
    REMOTE_ADDRESS, REMOTE_ADDRESS_WITHOUT_PORT, REMOTE_PORT, LOCAL_ADDRESS, LOCAL_ADDRESS_WITHOUT_PORT, LOCAL_PORT,
    PROTOCOL, HOSTNAME, REQ
  }

  private record Part(@Nullable String literal, @Nullable Var var, @Nullable String arg) {}

  private static final String HOSTNAME = hostname();

  private final List<Part> parts;

  private HeaderValueFormat(List<Part> parts) {
    this.parts = List.copyOf(parts);
  }

  /** The format of {@code value}, or null when it holds no command (then {@code %%} still means {@code %}). */
  public static @Nullable HeaderValueFormat parse(String value) throws IllegalArgumentException {
    List<Part> parts = new ArrayList<>();
    StringBuilder lit = new StringBuilder();
    boolean commands = false;
    int i = 0;
    while (i < value.length()) {
      char c = value.charAt(i);
      if (c != '%') {
        lit.append(c);
        i++;
        continue;
      }
      if (i + 1 < value.length() && value.charAt(i + 1) == '%') {
        lit.append('%');
        i += 2;
        continue;
      }
      int end = value.indexOf('%', i + 1);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated command at offset " + i + " (write %% for a literal %)");
      }
      String command = value.substring(i + 1, end);
      if (!lit.isEmpty()) {
        parts.add(new Part(lit.toString(), null, null));
        lit.setLength(0);
      }
      parts.add(command(command));
      commands = true;
      i = end + 1;
    }
    if (!commands) {
      return null;
    }
    if (!lit.isEmpty()) {
      parts.add(new Part(lit.toString(), null, null));
    }
    return new HeaderValueFormat(parts);
  }

  private static Part command(String c) {
    Var v = switch (c) {
      case "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" -> Var.REMOTE_ADDRESS;
      case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT" ->
          Var.REMOTE_ADDRESS_WITHOUT_PORT;
      case "DOWNSTREAM_REMOTE_PORT", "DOWNSTREAM_DIRECT_REMOTE_PORT" -> Var.REMOTE_PORT;
      case "DOWNSTREAM_LOCAL_ADDRESS" -> Var.LOCAL_ADDRESS;
      case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> Var.LOCAL_ADDRESS_WITHOUT_PORT;
      case "DOWNSTREAM_LOCAL_PORT" -> Var.LOCAL_PORT;
      case "PROTOCOL" -> Var.PROTOCOL;
      case "HOSTNAME" -> Var.HOSTNAME;
      default -> null;
    };
    if (v != null) {
      return new Part(null, v, null);
    }
    if (c.startsWith("REQ(") && c.endsWith(")") && c.length() > 5) {
      String header = c.substring(4, c.length() - 1);
      if (header.contains("?")) {
        throw new IllegalArgumentException("%" + c + "%: alternative headers (?) are not supported by bowline yet");
      }
      return new Part(null, Var.REQ, header.toLowerCase(java.util.Locale.ROOT));
    }
    throw new IllegalArgumentException("%" + c + "% is not a substitution command bowline supports yet");
  }

  /** The value for one request; commands with nothing to say render as nothing. */
  public String render(Context ctx) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < parts.size(); i++) {
      Part p = parts.get(i);
      if (p.literal() != null) {
        sb.append(p.literal());
        continue;
      }
      switch (p.var()) {
        case REMOTE_ADDRESS -> address(sb, ctx.downstreamRemoteAddress(), true);
        case REMOTE_ADDRESS_WITHOUT_PORT -> address(sb, ctx.downstreamRemoteAddress(), false);
        case REMOTE_PORT -> sb.append(ctx.downstreamRemoteAddress().getPort());
        case LOCAL_ADDRESS -> address(sb, ctx.downstreamLocalAddress(), true);
        case LOCAL_ADDRESS_WITHOUT_PORT -> address(sb, ctx.downstreamLocalAddress(), false);
        case LOCAL_PORT -> sb.append(ctx.downstreamLocalAddress().getPort());
        case PROTOCOL -> sb.append(ctx.protocol());
        case HOSTNAME -> sb.append(HOSTNAME);
        case REQ -> {
          String v = ctx.requestHeader(p.arg());
          if (v != null) {
            sb.append(v);
          }
        }
        default -> { }
      }
    }
    return sb.toString();
  }

  /** Envoy prints "ip:port", IPv6 as "[ip]:port", and the bare address without the port. */
  private static void address(StringBuilder sb, InetSocketAddress a, boolean withPort) {
    sb.append(withPort ? io.bowline.core.transport.AddressText.of(a) : io.bowline.core.transport.AddressText.ip(a));
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }
}
