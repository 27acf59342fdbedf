package io.bowline.core.accesslog;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;

/**
 * Not a test: the cost of formatting one line of Istio's default text format on the real classes, over 4,096
 * distinct entries shaped like the observability benchmark's (headers as bowline's HTTP/1 decoder and proxying
 * leave them). Run with the test classpath: {@code java -cp ... io.bowline.core.accesslog.AccessLogFormatBench}.
 */
public final class AccessLogFormatBench {
  static final String ISTIO = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
      + "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
      + "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
      + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% "
      + "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
      + "%ROUTE_NAME%\n";

  public static void main(String[] args) {
    LogFormat format = LogFormat.text(args.length > 0 && !args[0].isEmpty() ? args[0] : ISTIO, false);
    // distinct entries cycled through: 4,096 by default; more leave each entry's headers out of the caches, as
    // under load, where a request's headers were decoded many requests before its line is written
    int count = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
    AccessLogFacts[] facts = new AccessLogFacts[count];
    InetSocketAddress upstream = new InetSocketAddress("127.0.0.1", 18080);
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 18202);
    InetSocketAddress[] clients = new InetSocketAddress[64];
    InetSocketAddress[] upstreamLocals = new InetSocketAddress[64];
    for (int i = 0; i < 64; i++) {
      clients[i] = new InetSocketAddress("127.0.0.1", 40000 + i);
      upstreamLocals[i] = new InetSocketAddress("127.0.0.1", 50000 + i);
    }
    for (int i = 0; i < facts.length; i++) {
      AccessLogFacts f = new AccessLogFacts();
      f.startEpochMillis = 1_790_000_000_000L + i / 32; // ~32 requests per millisecond, as under load
      f.durationNanos = 300_000 + i;
      HttpHeaders req = new DefaultHttpHeaders();
      req.add("host", "127.0.0.1:18202");
      req.add("x-forwarded-proto", "http");
      req.add("x-request-id", java.util.UUID.randomUUID().toString());
      req.add("x-envoy-expected-rq-timeout-ms", "15000");
      req.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
      f.requestHeaders = req;
      HttpHeaders resp = new DefaultHttpHeaders();
      resp.add("server", "nginx/1.22.1");
      resp.add("date", "Fri, 27 Nov 2026 20:00:00 GMT");
      resp.add("content-type", "application/octet-stream");
      resp.add("content-length", "1024");
      resp.add("x-envoy-upstream-service-time", "0");
      f.responseHeaders = resp;
      f.method = "GET";
      f.path = "/t";
      f.scheme = "http";
      f.protocol = "HTTP/1.1";
      f.responseCode = 200;
      f.responseCodeDetails = "via_upstream";
      f.bytesSent = 1024 + 160;
      f.upstreamCluster = "inbound|18080||";
      f.upstreamHost = upstream;
      f.upstreamLocal = upstreamLocals[i % 64];
      f.downstreamRemote = clients[i % 64];
      f.downstreamDirectRemote = f.downstreamRemote;
      f.downstreamLocal = local;
      facts[i] = f;
    }
    LineBuilder line = new LineBuilder();
    long sink = 0;
    for (int round = 0; round < 12; round++) {
      int n = 2_000_000;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        line.reset();
        format.format(facts[i % count], line);
        sink += line.length();
      }
      long t1 = System.nanoTime();
      System.out.printf("round %d: %.1f ns per line%n", round, (t1 - t0) / (double) n);
    }
    line.reset();
    format.format(facts[0], line);
    System.out.print(line + "(" + sink + ")\n");
  }
}
