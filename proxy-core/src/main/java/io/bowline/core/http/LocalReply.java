package io.bowline.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Builds the responses the proxy answers itself, shaped as Envoy's (text/plain, or gRPC trailers-only). */
public final class LocalReply {
  private LocalReply() {}

  /** gRPC DEADLINE_EXCEEDED: what a max_stream_duration reply carries for gRPC requests, as Envoy's does. */
  static final int GRPC_DEADLINE_EXCEEDED = 4;

  /** Envoy's mapping from an HTTP status to a gRPC status (Grpc::Utility::httpToGrpcStatus). */
  public static int grpcStatusFor(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }

  public static FullHttpResponse http(ByteBufAllocator alloc, int status, String body, CharSequence server) {
    ByteBuf content = body.isEmpty() ? Unpooled.EMPTY_BUFFER : alloc.buffer(body.length());
    if (!body.isEmpty()) {
      content.writeCharSequence(body, StandardCharsets.UTF_8);
    }
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    if (!body.isEmpty()) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
    }
    r.headers().set(HttpHeaderNames.DATE, HttpDate.now());
    r.headers().set(HttpHeaderNames.SERVER, server);
    return r;
  }

  /** A trailers-only gRPC response: HTTP 200 whose single HEADERS frame carries grpc-status and grpc-message. */
  public static FullHttpResponse grpc(int grpcStatus, String message, CharSequence server) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
    r.headers().set("grpc-status", grpcStatus);
    if (!message.isEmpty()) {
      r.headers().set("grpc-message", percentEncode(message));
    }
    r.headers().set(HttpHeaderNames.SERVER, server);
    // trailers-only on HTTP/2; on HTTP/1.1 (gRPC-Web, or a client that merely says application/grpc) the empty body
    // still needs framing, or a keep-alive client waits for a close that never comes
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
    return r;
  }

  /** gRPC's percent-encoding of grpc-message: everything outside printable ASCII, and '%', is escaped. */
  static String percentEncode(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return sb.toString();
  }
}
