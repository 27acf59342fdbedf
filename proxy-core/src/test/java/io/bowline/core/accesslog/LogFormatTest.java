package io.bowline.core.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Envoy's format language: text and JSON, operators, lengths, missing values, and the errors for bad formats. */
class LogFormatTest {
  private static AccessLogFacts facts() {
    AccessLogFacts f = new AccessLogFacts();
    f.startEpochMillis = 1_714_564_800_123L; // 2024-05-01T12:00:00.123Z
    f.durationNanos = 12_600_000;
    f.requestDoneNanos = 1_000_000;
    f.firstResponseNanos = 9_000_000;
    HttpHeaders req = new DefaultHttpHeaders(false); // what a log must survive, whatever a codec lets through
    req.add("host", "shop.example");
    req.add("user-agent", "curl/8.0");
    req.add("x-request-id", "abc-123");
    req.add("x-forwarded-for", "10.0.0.1");
    req.add("x-multi", "a");
    req.add("x-multi", "b");
    f.requestHeaders = req;
    HttpHeaders resp = new DefaultHttpHeaders();
    resp.add("x-envoy-upstream-service-time", "7");
    f.responseHeaders = resp;
    f.method = "GET";
    f.path = "/items/1?q=2";
    f.scheme = "http";
    f.protocol = "HTTP/1.1";
    f.responseCode = 200;
    f.bytesReceived = 0;
    f.bytesSent = 1024;
    f.upstreamCluster = "outbound|80||shop.default.svc.cluster.local";
    f.upstreamHost = new InetSocketAddress("10.1.2.3", 8080);
    f.downstreamRemote = new InetSocketAddress("127.0.0.1", 40000);
    f.downstreamLocal = new InetSocketAddress("::1", 15001);
    f.responseCodeDetails = "via_upstream";
    return f;
  }

  @Test
  void envoysDefaultFormat() {
    String line = LogFormat.text(LogFormat.ENVOY_DEFAULT, false).format(facts());
    assertEquals("[2024-05-01T12:00:00.123Z] \"GET /items/1?q=2 HTTP/1.1\" 200 - 0 1024 12 7 \"10.0.0.1\" "
        + "\"curl/8.0\" \"abc-123\" \"shop.example\" \"10.1.2.3:8080\"\n", line);
  }

  @Test
  void operatorsAlternativesLengthsAndMissingValues() {
    AccessLogFacts f = facts();
    // a repeated header prints its first value, as Envoy's formatter does (envoyproxy/envoy#13454)
    assertEquals("/items|shop.|a|-|-", LogFormat.text(
        "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH):6%|%REQ(:AUTHORITY):5%|%REQ(x-multi)%|%REQ(x-none)%"
        + "|%RESP(x-none?x-other)%", false).format(f));
    assertEquals("1|9|3|via_upstream|[::1]:15001|15001|::1|127.0.0.1", LogFormat.text(
        "%REQUEST_DURATION%|%RESPONSE_DURATION%|%RESPONSE_TX_DURATION%|%RESPONSE_CODE_DETAILS%"
        + "|%DOWNSTREAM_LOCAL_ADDRESS%|%DOWNSTREAM_LOCAL_PORT%|%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%"
        + "|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", false).format(f));
    assertEquals("||x", LogFormat.text("%ROUTE_NAME%|%UPSTREAM_LOCAL_ADDRESS%|x", true).format(f),
        "omit_empty_values prints nothing for a missing value");
    f.responseFlags = "UH,URX";
    assertEquals("UH,URX NoHealthyUpstream,UpstreamRetryLimitExceeded",
        LogFormat.text("%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%", false).format(f));
    f.grpcStatus = 14;
    assertEquals("Unavailable UNAVAILABLE 14 14", LogFormat.text(
        "%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)% %GRPC_STATUS(NUMBER)% %GRPC_STATUS_NUMBER%", false).format(f));
  }

  @Test
  void uniqueIdIsAFreshVersion4UuidEachTime() {
    String[] ids = LogFormat.text("%UNIQUE_ID% %UNIQUE_ID%", false).format(facts()).split(" ");
    String v4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
    assertTrue(ids[0].matches(v4) && ids[1].matches(v4), String.join(" ", ids));
    assertTrue(!ids[0].equals(ids[1]), "two operators, two ids");
  }

  @Test
  void startTimeFormats() {
    AccessLogFacts f = facts();
    assertEquals("2024/05/01T12:00:00+0000 1714564800 123 12:00:00.123456 100%",
        LogFormat.text("%START_TIME(%Y/%m/%dT%H:%M:%S%z %s %3f %T.%6f 100%%)%", false).format(f)
            .replace("123000", "123456"));
    assertEquals("Wed, 01 May 2024 12:00:00.123",
        LogFormat.text("%START_TIME(%a, %d %b %Y %H:%M:%E3S)%", false).format(f));
  }

  @Test
  void controlCharactersNeverStartANewLine() {
    AccessLogFacts f = facts();
    f.requestHeaders.set("user-agent", "evil\r\n[2024-01-01] \"GET /forged\"\u001b[31m");
    String text = LogFormat.text("%REQ(USER-AGENT)%\n", false).format(f);
    assertEquals("evil\\x0d\\x0a[2024-01-01] \"GET /forged\"\\x1b[31m\n", text);
    String json = LogFormat.json(struct("{\"ua\": \"%REQ(USER-AGENT)%\"}"), true, false, false).format(f);
    assertEquals("{\"ua\":\"evil\\r\\n[2024-01-01] \\\"GET /forged\\\"\\u001b[31m\"}\n", json);
  }

  @Test
  void aTextLineCarriesAClientsHeaderBytesUnchanged() {
    AccessLogFacts f = facts();
    String sent = "caf\u00e9 \u00fc"; // what the client meant; it sends UTF-8, the codec keeps one byte per char
    f.requestHeaders.set("user-agent",
        new String(sent.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
    LineBuilder line = new LineBuilder();
    LogFormat.text("%REQ(USER-AGENT)% %UPSTREAM_CLUSTER% %RESPONSE_CODE%\n", false).format(f, line);
    assertEquals(sent + " outbound|80||shop.default.svc.cluster.local 200\n",
        new String(line.toByteArray(), StandardCharsets.UTF_8));
  }

  @Test
  void typedJsonKeepsNumbersAndNulls() throws Exception {
    Struct format = struct("""
        {"code": "%RESPONSE_CODE%", "bytes": "%BYTES_SENT%", "route": "%ROUTE_NAME%",
         "line": "%REQ(:METHOD)% %REQ(:PATH)%", "nested": {"host": "%UPSTREAM_HOST%", "port": "%DOWNSTREAM_LOCAL_PORT%"},
         "literal": 3, "flag": true}
        """);
    AccessLogFacts f = facts();
    assertEquals("{\"code\":200,\"bytes\":1024,\"route\":null,\"line\":\"GET /items/1?q=2\","
        + "\"nested\":{\"host\":\"10.1.2.3:8080\",\"port\":15001},\"literal\":3,\"flag\":true}\n",
        LogFormat.json(format, true, false, false).format(f));
    assertEquals("{\"code\":\"200\",\"bytes\":\"1024\",\"route\":\"-\",\"line\":\"GET /items/1?q=2\","
        + "\"nested\":{\"host\":\"10.1.2.3:8080\",\"port\":\"15001\"},\"literal\":3,\"flag\":true}\n",
        LogFormat.json(format, false, false, false).format(f), "the deprecated json_format is all strings");
    assertEquals("{\"bytes\":1024,\"code\":200,\"flag\":true,\"line\":\"GET /items/1?q=2\",\"literal\":3,"
        + "\"nested\":{\"host\":\"10.1.2.3:8080\",\"port\":15001}}\n",
        LogFormat.json(format, true, true, true).format(f), "omit_empty_values and sort_properties");
  }

  @Test
  void badFormatsAreRefusedWithEnvoysWords() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LogFormat.text("%RESPONSE_CODE% %NO_SUCH_THING%", false));
    assertEquals("Not supported field in StreamInfo: NO_SUCH_THING", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LogFormat.text("100% done %DURATION%", false));
    assertEquals("Incorrect configuration: 100% done %DURATION%. Couldn't find valid command at position 3",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LogFormat.text("%REQ%", false));
    assertTrue(e.getMessage().contains("REQ needs an argument"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> LogFormat.json(struct("{\"a\": {\"b\": \"%BAD%\"}}"), true, false, false));
    assertEquals("a.b: Not supported field in StreamInfo: BAD", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LogFormat.text("%START_TIME(%Q)%", false));
    assertTrue(e.getMessage().contains("%Q"), e.getMessage());
  }

  private static Struct struct(String json) {
    try {
      Struct.Builder b = Struct.newBuilder();
      JsonFormat.parser().merge(json, b);
      return b.build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void requestHeadersComeFromTheCaptureTakenWhenTheRequestWasForwarded() {
    String format = "%REQ(USER-AGENT)% %REQ(:AUTHORITY)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %STREAM_ID% "
        + "%REQ(X-MISSING)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%";
    LogFormat log = LogFormat.text(format, false);
    LoggedRequestHeaders capture = LoggedRequestHeaders.ofFormats(java.util.List.of(log), false);
    AccessLogFacts f = facts();
    f.loggedRequestHeaders = capture;
    f.loggedRequestValues = capture.capture(f.requestHeaders);
    // what changes after the request went upstream is not what was forwarded; the capture is what the log prints
    f.requestHeaders.set("user-agent", "changed-after");
    f.requestHeaders.set("x-missing", "added-after");
    assertEquals("curl/8.0 shop.example /items/1?q=2 abc-123 - 7", log.format(f));
    // never forwarded (a local reply): the headers as they are
    f.loggedRequestValues = null;
    assertEquals("changed-after shop.example /items/1?q=2 abc-123 added-after 7", log.format(f));
  }

  @Test
  void oneOperatorReadsEachConnectionManagersCaptureFromItsOwnPlace() {
    // a name sits at different places in different captures; an operator that met one finds it in the other
    LogFormat log = LogFormat.text("%REQ(USER-AGENT)%", false);
    LoggedRequestHeaders narrow = LoggedRequestHeaders.ofFormats(java.util.List.of(log), false);
    LoggedRequestHeaders wide = LoggedRequestHeaders.ofFormats(java.util.List.of(
        LogFormat.text("%REQ(X-A)% %REQ(X-B)% %REQ(USER-AGENT)%", false)), true);
    AccessLogFacts f = facts();
    for (int round = 0; round < 3; round++) {
      for (LoggedRequestHeaders capture : new LoggedRequestHeaders[] {narrow, wide, LoggedRequestHeaders.NONE}) {
        f.loggedRequestHeaders = capture;
        f.loggedRequestValues = capture.capture(f.requestHeaders);
        assertEquals("curl/8.0", log.format(f), "round " + round);
      }
    }
  }

  @Test
  void theDefaultStartTimeIsTheSameTextWrittenFromTheLinesCache() {
    LogFormat log = LogFormat.text("[%START_TIME%] [%START_TIME()%] [%START_TIME:10%]", false);
    AccessLogFacts f = facts();
    LineBuilder line = new LineBuilder(); // one line for every entry, as a formatting thread has
    long[] times = {1714564800123L, 1714564800999L, 1714564801000L, 1714564801007L, 1714564800000L,
        1714564801050L, 946684799999L, 0L, -1L, 253402300799999L};
    for (long t : times) {
      f.startEpochMillis = t;
      line.reset();
      log.format(f, line);
      String iso = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
          .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.ofEpochMilli(t));
      assertEquals("[" + iso + "] [" + iso + "] [" + iso.substring(0, 10) + "]", line.toString(), "at " + t);
    }
  }

  @Test
  void aConnectionManagerCapturesTheHeadersItsLogsRead() {
    LogFormat istio = LogFormat.text(LogFormat.ENVOY_DEFAULT, false);
    LogFormat json = LogFormat.json(struct("{\"a\": {\"b\": [\"%REQ(X-B3-TRACEID)%\"]}, \"id\": \"%STREAM_ID%\"}"),
        true, false, false);
    LoggedRequestHeaders capture = LoggedRequestHeaders.ofFormats(java.util.List.of(istio, json), true);
    HttpHeaders h = new DefaultHttpHeaders(false); // HTTP/2 requests can carry :authority
    for (String n : new String[] {"x-envoy-original-path", "x-forwarded-for", "user-agent", "x-request-id",
        ":authority", "host", "x-b3-traceid"}) {
      h.set(n, "v-" + n);
    }
    java.util.Set<String> captured = new java.util.HashSet<>();
    for (CharSequence v : capture.capture(h)) {
      captured.add(v.toString());
    }
    assertEquals(java.util.Set.of("v-x-envoy-original-path", "v-x-forwarded-for", "v-user-agent", "v-x-request-id",
        "v-:authority", "v-host", "v-x-b3-traceid"), captured, "pseudo-headers read from the request line are not");
    assertTrue(LoggedRequestHeaders.ofFormats(java.util.List.of(LogFormat.text("%RESPONSE_CODE% %REQ(:PATH)%",
        false)), false).isEmpty());
  }
}
