package io.bowline.core.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Envoy's uri_template matcher and rewriter, with the examples of its documentation. */
class UriTemplateTest {
  @Test
  void operatorsAndVariables() {
    UriTemplate t = UriTemplate.parse("/videos/*/{id}/{format}/{rendition}/{segment=**}.ts");
    assertEquals(List.of("id", "format", "rendition", "segment"), t.variables());
    assertTrue(t.matches("/videos/lib/123/hd/720p/a/b/seg1.ts"));
    assertFalse(t.matches("/videos/lib/123/hd/720p/seg1.mp4"));
    assertEquals("/123/hd/720p/a/b/seg1.ts",
        t.rewrite("/{id}/{format}/{rendition}/{segment}.ts").apply("/videos/lib/123/hd/720p/a/b/seg1.ts"));
  }

  @Test
  void oneSegmentAndManySegments() {
    assertTrue(UriTemplate.parse("/foo/*").matches("/foo/a"));
    assertFalse(UriTemplate.parse("/foo/*").matches("/foo/a/b"));
    assertFalse(UriTemplate.parse("/foo/*").matches("/foo/"), "* is one non-empty segment");
    assertTrue(UriTemplate.parse("/foo/**").matches("/foo/a/b/c"));
    assertTrue(UriTemplate.parse("/foo/**").matches("/foo/"));
    assertTrue(UriTemplate.parse("/{a=foo/*}/{b}").matches("/foo/x/y"));
    assertEquals("/y/foo/x", UriTemplate.parse("/{a=foo/*}/{b}").rewrite("/{b}/{a}").apply("/foo/x/y"));
    assertNull(UriTemplate.parse("/{a}").rewrite("/x/{a}").apply("/a/b"), "no match: left alone");
  }

  @Test
  void badTemplatesAreRefusedWithAReason() {
    assertEquals("'**' must be the last operator",
        assertThrows(IllegalArgumentException.class, () -> UriTemplate.parse("/a/**/b/*")).getMessage());
    assertEquals("must start with '/'",
        assertThrows(IllegalArgumentException.class, () -> UriTemplate.parse("a/*")).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UriTemplate.parse("/{a}/{a}")).getMessage()
        .contains("twice"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UriTemplate.parse("/{a}").rewrite("/{b}"))
        .getMessage().contains("not in the path_match_policy"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UriTemplate.parse("/a?b")).getMessage()
        .contains("'?'"));
  }
}
