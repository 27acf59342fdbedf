package io.bowline.core.http;

import io.bowline.core.config.HcmConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The RFC 9112 checks Netty's decoder leaves to the application, each answered as ../shared/HOSTILE-INPUTS.md says.
 * Returns null for a good request, or "NNN reason" with the status to answer.
 */
final class H1RequestChecks {
  private H1RequestChecks() {}

  static @Nullable String check(HttpRequest req, HcmConfig hcm) {
    HttpVersion v = req.protocolVersion();
    if (v.majorVersion() != 1) {
      return "505 HTTP Version Not Supported";
    }
    HttpHeaders h = req.headers();
    if (v.minorVersion() == 0) {
      if (!hcm.acceptHttp10()) {
        return "426 Upgrade Required"; // Envoy's default: accept_http_10 is false
      }
      if (!h.contains(HttpHeaderNames.HOST) && !hcm.defaultHostForHttp10().isEmpty()) {
        h.set(HttpHeaderNames.HOST, hcm.defaultHostForHttp10());
      }
    }
    int maxHeadersCount = hcm.maxHeadersCount();
    if (h.size() > maxHeadersCount) {
      return "431 Request Header Fields Too Large";
    }
    // one walk of the Host entries, the value as the decoder made it: no list and no String per request
    Iterator<? extends CharSequence> hosts = h.valueCharSequenceIterator(HttpHeaderNames.HOST);
    if (!hosts.hasNext()) {
      if (v.minorVersion() >= 1) {
        return "400 missing Host header";
      }
    } else {
      CharSequence host = hosts.next();
      if (hosts.hasNext()) {
        return "400 multiple Host headers";
      }
      if (!validHost(host)) {
        return "400 invalid Host header";
      }
    }
    if (h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      List<String> te = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
      if (v.minorVersion() == 0) {
        return "400 Transfer-Encoding on HTTP/1.0";
      }
      if (h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
        return "400 both Content-Length and Transfer-Encoding";
      }
      String problem = checkTransferEncoding(te);
      if (problem != null) {
        return problem;
      }
    }
    // Content-Length (digits, agreeing duplicates forwarded as one) is checked by Http1ServerCodec, which frames the
    // body by it
    String expect = h.get(HttpHeaderNames.EXPECT);
    if (expect != null && !HttpUtil.is100ContinueExpected(req)) {
      return "417 Expectation Failed";
    }
    return null;
  }

  private static @Nullable String checkTransferEncoding(List<String> values) {
    int chunked = 0;
    String last = null;
    for (String value : values) {
      for (String part : value.split(",", -1)) {
        String coding = part.trim().toLowerCase(Locale.ROOT);
        if (coding.isEmpty()) {
          return "400 invalid Transfer-Encoding";
        }
        if (coding.equals("chunked")) {
          chunked++;
        } else if (!coding.equals("gzip") && !coding.equals("deflate") && !coding.equals("compress")) {
          // identity is no transfer coding (RFC 9112 §7), and a name like "xchunked" is a smuggling probe: both
          // malformed; only the registered codings bowline does not decode are 501
          return "400 invalid Transfer-Encoding";
        }
        last = coding;
      }
    }
    if (chunked != 1 || !"chunked".equals(last)) {
      return "400 Transfer-Encoding must end in chunked";
    }
    if (values.size() > 1 || !values.get(0).trim().equalsIgnoreCase("chunked")) {
      return "501 Not Implemented"; // codings other than chunked are not decoded by the proxy
    }
    return null;
  }

  private static boolean validHost(CharSequence host) {
    if (host.length() == 0) {
      return true; // HTTP/1.1 allows an empty Host for targets without an authority
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c <= 0x20 || c >= 0x7f || c == '@' || c == '/' || c == '\\' || c == '?' || c == '#') {
        return false;
      }
    }
    return true;
  }
}
