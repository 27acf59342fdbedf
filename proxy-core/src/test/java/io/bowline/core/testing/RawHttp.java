package io.bowline.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A raw socket client: writes exact bytes and reads what comes back, for malformed-input tests. */
public final class RawHttp implements AutoCloseable {
  private final Socket socket;

  public RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(3000);
  }

  public RawHttp send(String s) throws IOException {
    socket.getOutputStream().write(s.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return this;
  }

  /** Reads until the peer closes or {@code quietMs} pass with nothing new; returns all bytes read as text. */
  public String readAll(int quietMs) throws IOException {
    socket.setSoTimeout(quietMs);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      // quiet: return what we have
    } catch (IOException e) {
      // reset by peer: return what we have
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  /** True when the peer has closed the connection (read returns EOF within the timeout). */
  public boolean closedWithin(int ms) throws IOException {
    socket.setSoTimeout(ms);
    try {
      while (true) {
        int b = socket.getInputStream().read();
        if (b < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** The invariant every hostile-input case ends with: a valid request on a new connection still gets 200. */
  public static void assertStillServed(int port) throws IOException {
    try (RawHttp raw = new RawHttp(port)) {
      String r = raw.send("GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").readAll(3000);
      if (status(r) != 200) {
        throw new AssertionError("a valid request after the case was not served: " + r);
      }
    }
  }

  /** {@code n} bytes that differ from one {@code seed} to the next: a body whose echo can be checked byte for byte. */
  public static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  /** A whole {@code POST} of {@code body} to {@code path}, framed by Content-Length, as bytes to write. */
  public static byte[] post(String path, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(body);
    return out.toByteArray();
  }

  /** Reads one response head, through its blank line, a byte at a time (the body after it stays unread). */
  public static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (head.size() < 4 || !head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new java.io.EOFException("closed after " + head.size() + " bytes of a response head");
      }
      head.write(c);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  public static int status(String response) {
    if (!response.startsWith("HTTP/1.")) {
      return -1;
    }
    return Integer.parseInt(response.substring(9, 12));
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
