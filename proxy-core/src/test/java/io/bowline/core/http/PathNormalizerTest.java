package io.bowline.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bowline.core.config.HcmConfig;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PathNormalizerTest {
  private static final HcmConfig.PathPolicy SAFE = new HcmConfig.PathPolicy(true, true,
      HcmConfig.EscapedSlashes.UNESCAPE_AND_REDIRECT);
  private static final HcmConfig.PathPolicy REJECT = new HcmConfig.PathPolicy(true, true,
      HcmConfig.EscapedSlashes.REJECT_REQUEST);

  private static String ok(String p, HcmConfig.PathPolicy policy) {
    PathNormalizer.Result r = PathNormalizer.apply(p, policy);
    assertEquals(PathNormalizer.Kind.OK, r.kind(), p);
    return r.path();
  }

  @Test
  void dotSegmentsAndSlashes() {
    assertEquals("/admin", ok("/public/../admin", SAFE));
    assertEquals("/admin", ok("/./admin", SAFE));
    assertEquals("/admin", ok("/public/%2e%2e/admin", SAFE));
    assertEquals("/admin", ok("//admin", SAFE));
    assertEquals("/admin/x", ok("/admin//x", SAFE));
    assertEquals("/admin", ok("/../../admin", SAFE));
    assertEquals("/a/", ok("/a/b/..", SAFE));
    assertEquals("/admin", ok("/public\\..\\admin", SAFE));
  }

  @Test
  void escapedSlashes() {
    assertEquals(PathNormalizer.Kind.REJECT, PathNormalizer.apply("/admin%2Fx", REJECT).kind());
    PathNormalizer.Result r = PathNormalizer.apply("/admin%2fx", SAFE);
    assertEquals(PathNormalizer.Kind.REDIRECT, r.kind());
    assertEquals("/admin/x", r.path());
  }

  @Test
  void badBytesAreRejected() {
    for (String p : new String[] {"/a%00", "/a%zz", "/a%2", "/a#x", "/a b"}) {
      assertEquals(PathNormalizer.Kind.REJECT, PathNormalizer.apply(p, SAFE).kind(), p);
    }
  }

  @Test
  void normalizeIsIdempotentOnRandomPaths() {
    Random rnd = new Random(42);
    String[] parts = {"a", "b", ".", "..", "%2e", "", "x%2e", "..."};
    for (int i = 0; i < 5000; i++) {
      StringBuilder sb = new StringBuilder();
      int n = 1 + rnd.nextInt(8);
      for (int j = 0; j < n; j++) {
        sb.append('/').append(parts[rnd.nextInt(parts.length)]);
      }
      String once = ok(sb.toString(), SAFE);
      assertEquals(once, ok(once, SAFE), sb.toString());
    }
  }

  @Test
  void longPathIsLinear() {
    String p = "/./".repeat(50_000 / 3);
    long start = System.nanoTime();
    ok(p, SAFE);
    assertEquals(true, (System.nanoTime() - start) / 1_000_000 < 200);
  }
}
