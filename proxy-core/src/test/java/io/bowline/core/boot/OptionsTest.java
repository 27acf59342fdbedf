package io.bowline.core.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptionsTest {
  @Test
  void envoysFlags() throws Exception {
    Options o = Options.parse("-c", "x.yaml", "--service-node", "n", "--service-cluster", "c", "--concurrency", "3",
        "-l", "debug", "--component-log-level", "upstream:trace", "--drain-time-s", "7", "--base-id", "1",
        "--disable-hot-restart", "--allow-unknown-static-fields", "--file-flush-interval-msec", "50",
        "--mode", "sidecar", "--local-address-ip-version", "v6", "--parent-shutdown-time-s=9");
    assertEquals("x.yaml", o.configPath);
    assertEquals(3, o.concurrency);
    assertEquals(7, o.drainTimeSeconds);
    assertTrue(o.allowUnknownStaticFields);
    assertEquals("sidecar", o.mode);
    assertEquals(50, o.fileFlushIntervalMs);
    assertTrue(o.ignored().stream().anyMatch(s -> s.startsWith("--base-id")));
    assertTrue(o.ignored().stream().anyMatch(s -> s.startsWith("--disable-hot-restart")));
  }

  @Test
  void badFlagsAreErrors() {
    assertThrows(Options.UsageException.class, () -> Options.parse("--nope"));
    assertThrows(Options.UsageException.class, () -> Options.parse("--concurrency", "zero"));
    assertThrows(Options.UsageException.class, () -> Options.parse("--mode", "gateway"));
    assertThrows(Options.UsageException.class, () -> Options.parse("-c"));
  }
}
