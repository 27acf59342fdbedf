package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import io.bowline.core.testing.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP/1.1 trailers follow Envoy's {@code enable_trailers}: off by default, so the downstream codec drops a request's
 * trailers and writes none after a response, and the upstream codec the same the other way; on, they pass. The HCM's
 * {@code http_protocol_options} sets the downstream side, the cluster's the upstream side, each on its own.
 */
@ExtendWith(LeakGuard.class)
class Http1TrailersIT {
  private static final String REQUEST = "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      + "5\r\nhello\r\n0\r\nx-request-trailer: rv\r\n\r\n";
  private static final String RESPONSE = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      + "2\r\nok\r\n0\r\nx-response-trailer: v\r\n\r\n";
  private static final String ENABLED = "http_protocol_options: {enable_trailers: true}";
  private static final String CLUSTER_ENABLED = """
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: {http_protocol_options: {enable_trailers: true}}""";

  private ServerSocket upstream;
  private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
  private final List<Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      try {
        while (true) {
          Socket s = upstream.accept();
          held.add(s);
          received.add(readChunkedRequest(s.getInputStream()));
          s.getOutputStream().write(RESPONSE.getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
        }
      } catch (Exception ignored) {
        // the server socket closed: the test is over
      }
    }, "trailers-upstream");
    t.setDaemon(true);
    t.start();
  }

  @AfterEach
  void stopUpstream() throws Exception {
    upstream.close();
    for (Socket s : held) {
      s.close();
    }
  }

  @Test
  void droppedBothWaysByDefault() throws Exception {
    Exchange e = exchange("", "");
    assertTrue(e.upstream.endsWith("5\r\nhello\r\n0\r\n\r\n"), e.upstream);
    assertTrue(e.downstream.endsWith("2\r\nok\r\n0\r\n\r\n"), e.downstream);
  }

  @Test
  void passBothWaysWhenBothSidesEnableThem() throws Exception {
    Exchange e = exchange(ENABLED, CLUSTER_ENABLED);
    assertTrue(e.upstream.endsWith("5\r\nhello\r\n0\r\nx-request-trailer: rv\r\n\r\n"), e.upstream);
    assertTrue(e.downstream.endsWith("2\r\nok\r\n0\r\nx-response-trailer: v\r\n\r\n"), e.downstream);
  }

  /** Enabled downstream only: the client's trailers are read but the upstream codec writes none, and reads none. */
  @Test
  void eachCodecDecidesForItsOwnSide() throws Exception {
    Exchange e = exchange(ENABLED, "");
    assertTrue(e.upstream.endsWith("5\r\nhello\r\n0\r\n\r\n"), e.upstream);
    assertTrue(e.downstream.endsWith("2\r\nok\r\n0\r\n\r\n"), e.downstream);
  }

  /** Enabled upstream only: the upstream's trailers are read, but the client's codec drops them both ways. */
  @Test
  void theDownstreamCodecDropsThemWhenOnlyTheClusterEnablesThem() throws Exception {
    Exchange e = exchange("", CLUSTER_ENABLED);
    assertTrue(e.upstream.endsWith("5\r\nhello\r\n0\r\n\r\n"), e.upstream);
    assertTrue(e.downstream.endsWith("2\r\nok\r\n0\r\n\r\n"), e.downstream);
  }

  private record Exchange(String upstream, String downstream) {}

  private Exchange exchange(String hcm, String cluster) throws Exception {
    try (ProxyHarness p = ProxyHarness.start(ProxyHarness.simpleHttp(hcm, cluster),
        Map.of("BACKEND", upstream.getLocalPort()));
        RawHttp raw = new RawHttp(p.port("http"))) {
      String response = raw.send(REQUEST).readAll(800);
      assertEquals(200, RawHttp.status(response), response);
      String request = received.poll(5, TimeUnit.SECONDS);
      assertTrue(request != null, "the upstream got no request");
      return new Exchange(request, response);
    }
  }

  /** A chunked request's bytes up to the end of its body: the head's blank line, then the body's. */
  private static String readChunkedRequest(InputStream in) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (true) {
      String s = out.toString(StandardCharsets.ISO_8859_1);
      if (s.endsWith("\r\n\r\n") && s.indexOf("\r\n\r\n") != s.length() - 4) {
        return s;
      }
      int n = in.read(buf);
      if (n < 0) {
        return s;
      }
      out.write(buf, 0, n);
    }
  }
}
