package io.bowline.core.compile;

import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads Envoy's {@code DataSource} (filename, inline_string, inline_bytes) while compiling, off the data path. */
final class DataSources {
  private DataSources() {}

  static byte[] read(DataSource ds, String path) throws ConfigException {
    switch (ds.getSpecifierCase()) {
      case FILENAME:
        try {
          return Files.readAllBytes(Path.of(ds.getFilename()));
        } catch (IOException e) {
          throw new ConfigException(path + ".filename", "cannot read " + ds.getFilename() + ": " + e.getMessage(), e);
        }
      case INLINE_STRING:
        return ds.getInlineString().getBytes(StandardCharsets.UTF_8);
      case INLINE_BYTES:
        return ds.getInlineBytes().toByteArray();
      case ENVIRONMENT_VARIABLE:
        String v = System.getenv(ds.getEnvironmentVariable());
        if (v == null) {
          throw new ConfigException(path + ".environment_variable", "variable " + ds.getEnvironmentVariable()
              + " is not set");
        }
        return v.getBytes(StandardCharsets.UTF_8);
      default:
        throw new ConfigException(path, "empty data source");
    }
  }
}
