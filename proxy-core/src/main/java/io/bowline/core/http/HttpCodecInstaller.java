package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.bowline.core.listener.ConnectionTracker;
import io.bowline.core.transport.ByteMeter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.util.AsciiString;

/**
 * Puts the HTTP connection manager's codec on a connection: HTTP/2 when ALPN chose it or the HCM says HTTP2,
 * HTTP/1.1 when the HCM says HTTP1, and for AUTO on cleartext both HTTP/1.1 and h2c (by prior knowledge or by
 * Upgrade), decided by the connection's first bytes.
 */
public final class HttpCodecInstaller {
  private HttpCodecInstaller() {}

  /** @param alpn the protocol ALPN negotiated on a TLS connection, or null */
  public static void install(ChannelPipeline p, HttpConnectionContext conn, ConnectionTracker tracker,
      long drainTimeoutMs, String alpn) {
    HcmConfig hcm = conn.hcm();
    boolean h2 = hcm.codecType() == HcmConfig.CodecType.HTTP2 || "h2".equals(alpn);
    if (h2) {
      Http2ServerConnection.install(p, conn, tracker, drainTimeoutMs);
      return;
    }
    Http1ServerHandler h1 = new Http1ServerHandler(conn, tracker);
    Http1ServerCodec codec = new Http1ServerCodec(hcm.maxRequestHeadersBytes(), hcm.maxHeadersCount(),
        hcm.http1Trailers());
    ByteMeter meter = java.util.Objects.requireNonNull(p.get(ByteMeter.class),
        "the connection's byte meter, which ChainInstaller puts first");
    meter.observe(h1);
    if (hcm.codecType() == HcmConfig.CodecType.AUTO && !conn.tls()) {
      p.addLast(new H2cPriorKnowledge(() -> {
        // prior knowledge: the connection is HTTP/2 from its first byte
        meter.observe(null);
        p.remove(Http1ServerCodec.class);
        p.remove(HttpServerUpgradeHandler.class);
        p.remove(Http1ServerHandler.class);
        Http2ServerConnection.install(p, conn, tracker, drainTimeoutMs);
      }));
      HttpServerUpgradeHandler upgrader = new H2cUpgradeHandler(codec, protocol -> {
        if (!AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)) {
          return null;
        }
        return new Http2ServerUpgradeCodec(Http2ServerConnection.create(conn, tracker, drainTimeoutMs));
      });
      p.addLast(codec, upgrader, h1);
      return;
    }
    p.addLast(codec, h1);
  }

  /**
   * Netty's h2c upgrade handler, holding only the requests it may upgrade. Netty's holds (aggregates) every request
   * with an Upgrade header, whatever it asks for, and answers 413 itself past its limit: a POST with a 100 KB body
   * and "Upgrade: foo" — which Envoy proxies with the header dropped — was refused, and any such body was held
   * whole rather than streamed. An h2c upgrade whose body is over the limit or chunked is let through too: RFC 9113
   * lets a server ignore the upgrade, and the request is served as HTTP/1.1 with its body streamed.
   */
  private static final class H2cUpgradeHandler extends HttpServerUpgradeHandler {
    /** The largest h2c upgrade request body held while the connection switches. */
    private static final int MAX_HELD_BODY = 64 * 1024;

    H2cUpgradeHandler(SourceCodec source, UpgradeCodecFactory factory) {
      super(source, factory, MAX_HELD_BODY);
    }

    @Override
    protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
      HttpHeaders h = req.headers();
      // the decoder refused a Content-Length that is not a number, so parsing it here cannot fail
      return h.containsValue(HttpHeaderNames.UPGRADE, Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, true)
          && !h.contains(HttpHeaderNames.TRANSFER_ENCODING) && HttpUtil.getContentLength(req, 0L) <= MAX_HELD_BODY;
    }
  }
}
