package io.bowline.core.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The codecs' header map against the one it replaced: the same operations on it and on Netty's
 * {@code DefaultHttpHeaders} (without validation, as the codecs built theirs) leave the same answers to every read.
 */
class ArrayHttpHeadersTest {
  private static final List<CharSequence> NAMES = List.of(HttpHeaderNames.HOST, "Host", "HOST",
      HttpHeaderNames.CONTENT_LENGTH, "content-length", new AsciiString("X-Request-Id"), "x-request-id",
      HttpHeaderNames.CONNECTION, "x-b3-traceid", "set-cookie", HttpHeaderNames.SET_COOKIE, "a", "b");

  private static HttpHeaders netty() {
    return DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
  }

  @Test
  void randomOperationsReadTheSameAsNettysMap() {
    Random random = new Random(20261129);
    for (int run = 0; run < 300; run++) {
      HttpHeaders expected = netty();
      ArrayHttpHeaders actual = new ArrayHttpHeaders();
      for (int op = 0; op < 60; op++) {
        CharSequence name = NAMES.get(random.nextInt(NAMES.size()));
        String value = "v" + random.nextInt(5);
        switch (random.nextInt(12)) {
          case 0, 1, 2, 3 -> {
            expected.add(name, value);
            actual.add(name, value);
          }
          case 4 -> {
            expected.add(name, new AsciiString(value));
            actual.addParsed(name, new AsciiString(value));
          }
          case 5, 6 -> {
            expected.set(name, value);
            actual.set(name, value);
          }
          case 7 -> {
            expected.remove(name);
            actual.remove(name);
          }
          case 8 -> {
            expected.setInt(name, op);
            actual.setInt(name, op);
          }
          case 9 -> {
            expected.set(name, List.of(value, "w"));
            actual.set(name, List.of(value, "w"));
          }
          case 10 -> {
            expected.add(name.toString(), List.of(value, "z"));
            actual.add(name.toString(), List.of(value, "z"));
          }
          default -> {
            if (random.nextInt(8) == 0) {
              expected.clear();
              actual.clear();
            }
          }
        }
        assertSameReads(expected, actual);
      }
    }
  }

  private static void assertSameReads(HttpHeaders expected, ArrayHttpHeaders actual) {
    assertEquals(expected.size(), actual.size());
    assertEquals(expected.isEmpty(), actual.isEmpty());
    assertEquals(text(expected.entries()), text(actual.entries()), "fields in order");
    List<String> names = new ArrayList<>(); // Netty's names may repeat a name in another case; these do not
    for (String n : expected.names()) {
      if (names.stream().noneMatch(n::equalsIgnoreCase)) {
        names.add(n);
      }
    }
    assertEquals(names, new ArrayList<>(actual.names()));
    assertEquals(entries(expected), entries(actual));
    for (CharSequence name : NAMES) {
      assertEquals(expected.get(name), actual.get(name), name::toString);
      assertEquals(expected.get(name.toString()), actual.get(name.toString()));
      assertEquals(expected.getAll(name), actual.getAll(name), name::toString);
      assertEquals(expected.contains(name), actual.contains(name));
      assertEquals(expected.getInt(name), actual.getInt(name));
      assertEquals(expected.contains(name, "V1", true), actual.contains(name, "V1", true));
      assertEquals(expected.contains(name, "V1", false), actual.contains(name, "V1", false));
      assertEquals(expected.contains(name, "v1", false), actual.contains(name, "v1", false));
      assertEquals(expected.containsValue(name, "w", true), actual.containsValue(name, "w", true));
      assertEquals(expected.get(name), HeaderValues.first(actual, name) == null ? null
          : HeaderValues.first(actual, name).toString());
      List<String> values = new ArrayList<>();
      actual.valueStringIterator(name).forEachRemaining(values::add);
      assertEquals(expected.getAll(name), values, "values in the order added");
    }
  }

  private static List<String> text(List<Map.Entry<String, String>> entries) {
    return entries.stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
  }

  private static List<String> entries(HttpHeaders h) {
    List<String> out = new ArrayList<>();
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      out.add(e.getKey() + "=" + e.getValue());
    }
    return out;
  }

  @Test
  void valuesAreKeptAsTheyAreAndObjectsConvertedAsNettyConvertsThem() {
    ArrayHttpHeaders h = new ArrayHttpHeaders();
    AsciiString parsed = new AsciiString("keep-alive");
    h.addParsed(HttpHeaderNames.CONNECTION, parsed);
    assertSame(parsed, HeaderValues.first(h, "Connection"));
    assertSame(parsed, h.valueAt(0));
    assertSame(HttpHeaderNames.CONNECTION, h.nameAt(0));

    Date date = new Date(1_700_000_000_000L);
    h.set("date", date);
    h.add("x-n", 42L);
    HttpHeaders expected = netty().add(HttpHeaderNames.CONNECTION, parsed).set("date", date).add("x-n", 42L);
    assertEquals(text(expected.entries()), text(h.entries()));
    assertEquals(1_700_000_000_000L, h.getTimeMillis("Date"));
    assertEquals(42, h.getInt("x-n"));
    assertEquals((short) 42, h.getShort("x-n"));
    assertNull(h.getInt("date"), "not a number");
    assertEquals(7, h.getInt("missing", 7));
    assertThrows(NullPointerException.class, () -> h.add("x", (Object) null));
    assertThrows(IndexOutOfBoundsException.class, () -> h.nameAt(3));
  }

  @Test
  void growsPastItsFirstArrayAndCopiesApart() {
    ArrayHttpHeaders h = new ArrayHttpHeaders();
    for (int i = 0; i < 100; i++) {
      h.add("x-" + i, String.valueOf(i));
    }
    assertEquals(100, h.size());
    assertEquals("99", h.get("X-99"));
    HttpHeaders copy = h.copy();
    h.remove("x-0");
    assertEquals(99, h.size());
    assertEquals(100, copy.size());
    assertEquals("0", copy.get("x-0"));
    assertTrue(copy.contains("x-0"));
    assertFalse(h.contains("x-0"));
    h.set(copy);
    assertEquals(text(copy.entries()), text(h.entries()));
  }
}
