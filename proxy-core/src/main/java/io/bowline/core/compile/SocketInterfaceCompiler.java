package io.bowline.core.compile;

import io.bowline.core.config.SocketInterfaceConfig;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.network.socket_interface.v3.DefaultSocketInterface;
import io.envoyproxy.envoy.extensions.network.socket_interface.v3.IoUringOptions;

/**
 * {@code bootstrap_extensions} and {@code default_socket_interface}: the one bootstrap extension bowline has is
 * Envoy's default socket interface ({@code DefaultSocketInterface}), whose {@code io_uring_options} turn io_uring on
 * for every listener and connection where the kernel allows it (else epoll, as Envoy falls back).
 */
final class SocketInterfaceCompiler {
  /** The name Envoy registers its default socket interface under, and {@code default_socket_interface}'s default. */
  private static final String DEFAULT_NAME = "envoy.extensions.network.socket_interface.default_socket_interface";
  private static final String TYPE = "envoy.extensions.network.socket_interface.v3.DefaultSocketInterface";

  private SocketInterfaceCompiler() {}

  static SocketInterfaceConfig compile(Bootstrap b, CompileContext ctx) throws ConfigException {
    String chosen = b.getDefaultSocketInterface().isEmpty() ? DEFAULT_NAME : b.getDefaultSocketInterface();
    SocketInterfaceConfig result = null;
    boolean chosenFound = chosen.equals(DEFAULT_NAME);
    for (int i = 0; i < b.getBootstrapExtensionsCount(); i++) {
      String path = "bootstrap_extensions[" + i + "]";
      TypedExtensionConfig ext = b.getBootstrapExtensions(i);
      Fields.allow(ext, path, "name", "typed_config");
      if (!Fields.typeName(ext.getTypedConfig()).equals(TYPE)) {
        // Istio's bootstraps carry internal_listener and, ambient, metadata_discovery (pilot-agent starts its
        // proxy with --allow-unknown-static-fields, which skips them here with a warning)
        String why = "extension " + ext.getName() + " (" + Fields.typeName(ext.getTypedConfig())
            + ") is not supported by bowline yet (its one bootstrap extension is " + TYPE + ")";
        if (Fields.ignored(path + ".typed_config", why)) {
          continue;
        }
        throw new ConfigException(path + ".typed_config", why);
      }
      if (result != null) {
        throw new ConfigException(path, "a second socket interface; bowline has one");
      }
      DefaultSocketInterface dsi = Fields.unpack(ext.getTypedConfig(), DefaultSocketInterface.class,
          path + ".typed_config");
      result = compile(dsi, path + ".typed_config", ctx);
      chosenFound |= chosen.equals(ext.getName());
    }
    if (!chosenFound) {
      throw new ConfigException("default_socket_interface", "no socket interface named \"" + chosen + "\"");
    }
    return result == null ? SocketInterfaceConfig.DEFAULT : result;
  }

  private static SocketInterfaceConfig compile(DefaultSocketInterface dsi, String path, CompileContext ctx)
      throws ConfigException {
    Fields.allow(dsi, path, "io_uring_options");
    if (!dsi.hasIoUringOptions()) {
      return SocketInterfaceConfig.DEFAULT;
    }
    String p = path + ".io_uring_options";
    IoUringOptions o = dsi.getIoUringOptions();
    Fields.allow(o, p, "io_uring_size", "enable_submission_queue_polling", "read_buffer_size", "write_timeout_ms");
    if (o.getEnableSubmissionQueuePolling()) {
      throw new ConfigException(p + ".enable_submission_queue_polling",
          "submission queue polling (SQPOLL) is not supported by bowline's io_uring transport (Netty's)");
    }
    if (o.hasReadBufferSize()) {
      ctx.warn(p + ".read_buffer_size: accepted; bowline sizes each read to the traffic, as with epoll");
    }
    if (o.hasWriteTimeoutMs()) {
      ctx.warn(p + ".write_timeout_ms: accepted; a closing connection's pending writes are not timed separately");
    }
    int size = o.hasIoUringSize() ? o.getIoUringSize().getValue() : 0;
    if (o.hasIoUringSize() && (size < 1 || size > 32768)) {
      throw new ConfigException(p + ".io_uring_size", size + " is out of range (1 to 32768 entries)");
    }
    return new SocketInterfaceConfig(true, size);
  }
}
