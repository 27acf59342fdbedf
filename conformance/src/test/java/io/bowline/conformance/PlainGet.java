package io.bowline.conformance;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 GETs over one kept-alive plain socket, for a benchmark's load: {@code java.net.http.HttpClient} spent
 * ~0.8 ms of CPU per request in the benchmark's JVM (its selector thread, futures, and the JIT compiling them), which
 * on a 2-core machine is taken from the proxy being measured. Reads the status, the headers it needs, and a body
 * framed by Content-Length or chunked encoding; a kept connection the server has closed is replaced once.
 */
final class PlainGet implements AutoCloseable {
  private final int port;
  private final int timeoutMillis;
  private final byte[] buf = new byte[16 * 1024];
  private int at;
  private int end;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  PlainGet(int port, int timeoutMillis) {
    this.port = port;
    this.timeoutMillis = timeoutMillis;
  }

  /** The response's status code. */
  int get(String path, String host) throws IOException {
    byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    boolean reused = socket != null;
    try {
      return exchange(request);
    } catch (IOException e) {
      close();
      if (!reused) {
        throw e;
      }
      return exchange(request); // the kept connection was closed under us (idle timeout, drain): once more, fresh
    }
  }

  private int exchange(byte[] request) throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(timeoutMillis);
      socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
      in = socket.getInputStream();
      out = socket.getOutputStream();
      at = end = 0;
    }
    out.write(request);
    out.flush();
    String statusLine = line();
    if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
      throw new IOException("not an HTTP/1.x status line: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean closes = statusLine.startsWith("HTTP/1.0");
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = h.substring(0, colon).trim();
      String value = h.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("content-length")) {
        length = Long.parseLong(value);
      } else if (name.equalsIgnoreCase("transfer-encoding")) {
        chunked = value.toLowerCase().contains("chunked");
      } else if (name.equalsIgnoreCase("connection")) {
        closes = value.equalsIgnoreCase("close");
      }
    }
    if (chunked) {
      for (long size = chunkSize(); size > 0; size = chunkSize()) {
        skip(size);
        line();
      }
      for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
        // trailers: read and dropped
      }
    } else if (length >= 0) {
      skip(length);
    } else {
      closes = true; // delimited by the close: the connection cannot be kept
    }
    if (closes) {
      close();
    }
    return status;
  }

  private long chunkSize() throws IOException {
    String s = line();
    int ext = s.indexOf(';');
    return Long.parseLong((ext < 0 ? s : s.substring(0, ext)).trim(), 16);
  }

  private String line() throws IOException {
    StringBuilder s = new StringBuilder();
    while (true) {
      if (at == end) {
        fill();
      }
      byte b = buf[at++];
      if (b == '\n') {
        int n = s.length();
        return n > 0 && s.charAt(n - 1) == '\r' ? s.substring(0, n - 1) : s.toString();
      }
      s.append((char) (b & 0xff));
    }
  }

  private void skip(long n) throws IOException {
    while (n > 0) {
      if (at == end) {
        fill();
      }
      int k = (int) Math.min(n, end - at);
      at += k;
      n -= k;
    }
  }

  private void fill() throws IOException {
    int n = in.read(buf, 0, buf.length);
    if (n < 0) {
      throw new EOFException("connection closed mid-response");
    }
    at = 0;
    end = n;
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing: nothing to do
      }
      socket = null;
    }
  }
}
