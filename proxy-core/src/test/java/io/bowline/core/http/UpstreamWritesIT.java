package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What one downstream read brings goes upstream in one write: a request whose head and body arrive together reaches
 * the upstream whole, not as its head and then its body (two sends, two segments, and an upstream woken twice).
 */
@ExtendWith(LeakGuard.class)
class UpstreamWritesIT {
  private static final int REQUESTS = 20;

  @Test
  void aRequestReadWithItsBodyReachesTheUpstreamInOneWrite() throws Exception {
    byte[] body = new byte[1024];
    java.util.Arrays.fill(body, (byte) 'b');
    List<String> partial = new CopyOnWriteArrayList<>();
    try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread backend = new Thread(() -> serve(upstream, partial), "first-read-backend");
      backend.setDaemon(true);
      backend.start();
      try (ProxyHarness proxy = ProxyHarness.start(ProxyHarness.simpleHttp("", ""),
          Map.of("BACKEND", upstream.getLocalPort()));
          Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port("http"))) {
        client.setSoTimeout(10_000);
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        for (int i = 0; i < REQUESTS; i++) {
          ByteArrayOutputStream request = new ByteArrayOutputStream();
          request.write(("POST /r" + i + " HTTP/1.1\r\nhost: test\r\ncontent-length: " + body.length + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          request.write(body);
          out.write(request.toByteArray()); // one write: the proxy reads head and body together
          out.flush();
          String status = readResponse(in);
          assertTrue(status.startsWith("HTTP/1.1 200"), status);
        }
      }
    }
    assertEquals(List.of(), partial, "requests whose first upstream read held only part of them");
  }

  /** Answers each request, noting the ones its first read did not hold whole. */
  private static void serve(ServerSocket upstream, List<String> partial) {
    try (Socket s = upstream.accept()) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[64 * 1024];
      while (true) {
        int n = in.read(buf); // the first read after waiting: whatever the proxy's first write carried
        if (n < 0) {
          return;
        }
        String head = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
        int end = head.indexOf("\r\n\r\n");
        int length = contentLength(head);
        int got = end < 0 ? -1 : n - end - 4;
        if (got != length) {
          partial.add(head.lines().findFirst().orElse("") + ": first read " + n + " bytes");
        }
        while (end < 0 || got < length) { // the rest, so that the next request starts clean
          int more = in.read(buf, n, buf.length - n);
          if (more < 0) {
            return;
          }
          n += more;
          head = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
          end = head.indexOf("\r\n\r\n");
          length = contentLength(head);
          got = end < 0 ? -1 : n - end - 4;
        }
        out.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (java.io.IOException e) {
      // the proxy closed the connection at the end of the test
    }
  }

  private static int contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
        return Integer.parseInt(line.substring(15).trim());
      }
    }
    return 0;
  }

  /** The status line of a response without a body, read to its blank line. */
  private static String readResponse(InputStream in) throws java.io.IOException {
    StringBuilder sb = new StringBuilder();
    while (sb.indexOf("\r\n\r\n") < 0) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      sb.append((char) c);
    }
    return sb.toString();
  }
}
