package io.bowline.core.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bowline.core.testing.LeakGuard;
import io.bowline.core.testing.ProxyHarness;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * listener_filters_timeout with and without continue_on_listener_filters_timeout (Istio sets it): a client of a
 * server-first protocol sends nothing, so tls_inspector never decides; with the flag the connection goes on to the
 * raw_buffer chain when the timeout fires and the server's greeting comes through, without it the connection closes.
 */
@ExtendWith(LeakGuard.class)
class ListenerFiltersTimeoutIT {
  private static String yaml(boolean continueOnTimeout) {
    return yaml(continueOnTimeout, "");
  }

  private static String yaml(boolean continueOnTimeout, String disabled) {
    return """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            listener_filters_timeout: 0.3s
            continue_on_listener_filters_timeout: CONTINUE
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
              DISABLED
            filter_chains:
            - filter_chain_match: {transport_protocol: raw_buffer}
              filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: mysql
          clusters:
          - name: mysql
            type: STATIC
            load_assignment: {cluster_name: mysql, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${PORT}}}}}]}]}
        """.replace("CONTINUE", Boolean.toString(continueOnTimeout)).replace("DISABLED", disabled);
  }

  @Test
  void aServerFirstProtocolGoesOnAfterTheTimeout() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread greeter = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            s.getOutputStream().write("220 greetings\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            Thread.sleep(200);
          } catch (Exception e) {
            return;
          }
        }
      });
      greeter.setDaemon(true);
      greeter.start();
      for (boolean cont : new boolean[] {true, false}) {
        try (ProxyHarness proxy = ProxyHarness.start(yaml(cont), Map.of("PORT", server.getLocalPort()));
            Socket client = new Socket("127.0.0.1", proxy.port("tcp"))) {
          client.setSoTimeout(5000);
          InputStream in = client.getInputStream();
          byte[] buf = new byte[64];
          long start = System.nanoTime();
          int n = in.read(buf);
          long ms = (System.nanoTime() - start) / 1_000_000;
          if (cont) {
            assertEquals("220 greetings\r\n", new String(buf, 0, Math.max(n, 0), StandardCharsets.US_ASCII));
            assertTrue(ms >= 250, "only once the listener filters gave up: " + ms + " ms");
          } else {
            assertEquals(-1, n, "closed when the listener filters time out");
          }
        }
      }
    }
  }

  /** filter_disabled (Istio turns inspectors off for ports it knows): nothing waits, the greeting comes at once. */
  @Test
  void aDisabledInspectorDoesNotWait() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread greeter = new Thread(() -> {
        try (Socket s = server.accept()) {
          s.getOutputStream().write("220 greetings\r\n".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          Thread.sleep(200);
        } catch (Exception e) {
          // the test ends
        }
      });
      greeter.setDaemon(true);
      greeter.start();
      try (ProxyHarness proxy = ProxyHarness.start(yaml(false, "filter_disabled: {or_match: {rules: ["
          + "{destination_port_range: {start: 1, end: 2}}, {any_match: true}]}}"), Map.of("PORT", server.getLocalPort()));
          Socket client = new Socket("127.0.0.1", proxy.port("tcp"))) {
        client.setSoTimeout(5000);
        long start = System.nanoTime();
        byte[] buf = new byte[64];
        int n = client.getInputStream().read(buf);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals("220 greetings\r\n", new String(buf, 0, Math.max(n, 0), StandardCharsets.US_ASCII));
        assertTrue(ms < 250, "no listener filter to wait for: " + ms + " ms");
      }
    }
  }
}
