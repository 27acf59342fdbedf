package io.bowline.core.stats;

import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One scope's stats of one kind ({@code cluster.<name>.}'s counters, say), as name and value pairs in one array:
 * appended under the table's lock when config compiles, read without one. A mesh-sized config has ten thousand
 * clusters of a few dozen stats each; a hash map per scope spent a 32-byte node and a whole-name string per stat,
 * where this spends two array slots and shares the prefix and the names. Found by a scan over the scope's names: as
 * fast as hashing for a few dozen, and done only when config compiles (or a response code is first seen).
 */
final class ScopeTable {
  private static final Object[] EMPTY = {};

  private final String prefix;
  private volatile Object[] entries = EMPTY; // name, value, name, value, ...

  ScopeTable(String prefix) {
    this.prefix = prefix;
  }

  String prefix() {
    return prefix;
  }

  @Nullable Object get(String segment) {
    Object[] e = entries;
    int i = indexOf(e, segment);
    return i < 0 ? null : e[i + 1];
  }

  /** The value named {@code segment}, made from the name when there is none yet. */
  synchronized Object getOrAdd(String segment, Function<String, Object> make) {
    Object[] now = entries;
    int i = indexOf(now, segment);
    if (i >= 0) {
      return now[i + 1];
    }
    Object v = make.apply(segment);
    entries = append(now, segment, v);
    return v;
  }

  /** Sets the value named {@code segment}, replacing the one there. */
  synchronized void put(String segment, Object value) {
    Object[] now = entries;
    int i = indexOf(now, segment);
    if (i < 0) {
      entries = append(now, segment, value);
    } else {
      Object[] copy = now.clone(); // readers keep the array they hold
      copy[i + 1] = value;
      entries = copy;
    }
  }

  void forEach(BiConsumer<String, Object> each) {
    Object[] e = entries;
    for (int i = 0; i < e.length; i += 2) {
      each.accept((String) e[i], e[i + 1]);
    }
  }

  private static int indexOf(Object[] e, String segment) {
    for (int i = 0; i < e.length; i += 2) {
      if (segment.equals(e[i])) {
        return i;
      }
    }
    return -1;
  }

  private static Object[] append(Object[] now, String segment, Object value) {
    Object[] grown = java.util.Arrays.copyOf(now, now.length + 2);
    grown[now.length] = segment;
    grown[now.length + 1] = value;
    return grown;
  }
}
