package io.bowline.core.listener;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads SNI and ALPN from a TLS ClientHello without consuming it, as Envoy's tls_inspector does. Only the first
 * record is examined; a ClientHello split over several records yields what the first one holds.
 */
public final class ClientHello {
  /** The outcome: not TLS, need more bytes, or what was found. */
  public record Result(boolean tls, boolean needMore, @Nullable String serverName, List<String> alpn) {
    static final Result NOT_TLS = new Result(false, false, null, List.of());
    static final Result NEED_MORE = new Result(true, true, null, List.of());
  }

  private ClientHello() {}

  /** @param in borrowed; its reader index is not moved */
  public static Result parse(ByteBuf in) {
    int start = in.readerIndex();
    int avail = in.readableBytes();
    if (avail < 1) {
      return Result.NEED_MORE;
    }
    if (in.getUnsignedByte(start) != 22) { // handshake record
      return Result.NOT_TLS;
    }
    if (avail < 5) {
      return Result.NEED_MORE;
    }
    int major = in.getUnsignedByte(start + 1);
    if (major != 3) {
      return Result.NOT_TLS;
    }
    int recordLen = in.getUnsignedShort(start + 3);
    if (avail < 5 + recordLen) {
      return recordLen > 16384 + 2048 ? Result.NOT_TLS : Result.NEED_MORE;
    }
    try {
      int p = start + 5;
      int end = p + recordLen;
      if (in.getUnsignedByte(p) != 1) { // client_hello
        return new Result(true, false, null, List.of());
      }
      p += 4; // type + 24-bit length
      p += 2 + 32; // version + random
      p += 1 + in.getUnsignedByte(p); // session id
      p += 2 + in.getUnsignedShort(p); // cipher suites
      p += 1 + in.getUnsignedByte(p); // compression methods
      if (p + 2 > end) {
        return new Result(true, false, null, List.of());
      }
      int extEnd = Math.min(end, p + 2 + in.getUnsignedShort(p));
      p += 2;
      String sni = null;
      List<String> alpn = new ArrayList<>();
      while (p + 4 <= extEnd) {
        int type = in.getUnsignedShort(p);
        int len = in.getUnsignedShort(p + 2);
        int body = p + 4;
        if (body + len > extEnd) {
          break;
        }
        if (type == 0 && len >= 5) { // server_name: list length, type(0), name length, name
          int nameLen = in.getUnsignedShort(body + 3);
          if (in.getUnsignedByte(body + 2) == 0 && body + 5 + nameLen <= body + len) {
            sni = in.toString(body + 5, nameLen, StandardCharsets.US_ASCII);
          }
        } else if (type == 16 && len >= 2) { // application_layer_protocol_negotiation
          int q = body + 2;
          int listEnd = Math.min(body + len, body + 2 + in.getUnsignedShort(body));
          while (q < listEnd) {
            int l = in.getUnsignedByte(q);
            if (q + 1 + l > listEnd) {
              break;
            }
            alpn.add(in.toString(q + 1, l, StandardCharsets.US_ASCII));
            q += 1 + l;
          }
        }
        p = body + len;
      }
      return new Result(true, false, sni, List.copyOf(alpn));
    } catch (IndexOutOfBoundsException e) {
      return new Result(true, false, null, List.of());
    }
  }
}
