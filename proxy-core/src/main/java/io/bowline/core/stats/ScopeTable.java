package io.bowline.core.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;

/**
 * One scope's stats of one kind ({@code cluster.<name>.}'s counters, say), as name and value pairs in one array:
 * appended under the table's lock when config compiles, read without one. A mesh-sized config has ten thousand
 * clusters of a few dozen stats each; a hash map per scope spent a 32-byte node and a whole-name string per stat,
 * where this spends two array slots and shares the prefix and the names. Found by a scan over the scope's names: as
 * fast as hashing for a few dozen, and done only when config compiles (or a response code is first seen). Every name
 * in a table is the store's shared instance of it ({@code Stats.shared}), so a caller holding that instance finds it
 * by identity ({@link #getShared}, {@link #getOrAdd}, {@link #put}): a few dozen pointer compares, not string compares.
 *
 * <p>A name may hold {@link #DEFERRED}: a stat that exists (shown with 0, as Envoy shows an idle cluster's) but has
 * no object yet; the first lookup that wants the stat itself makes it ({@link #getOrAdd}). Ten thousand mostly idle
 * clusters then hold two array slots per traffic stat instead of a counter object each.
 *
 * <p>The array has room to spare and doubles when full, so a scope's few dozen appends copy it a handful of times
 * (a copy per append made each cluster of a 10 000-cluster push throw away ~10 KB). Readers see the pairs below
 * {@code size}: the count is published after the pair is written, and values are read with acquire semantics, so a
 * value replaced in place is seen whole.
 */
final class ScopeTable {
  private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Object[].class);

  /** The value of a stat that is shown (as 0, unused) but not made yet; never counts anything. */
  static final Object DEFERRED = new Object() {
    @Override
    public String toString() {
      return "DEFERRED";
    }
  };

  private final String prefix;
  private volatile Object[] entries = new Object[4]; // name, value, name, value, ...; grows by doubling
  private volatile int size; // pairs in use

  ScopeTable(String prefix) {
    this.prefix = prefix;
  }

  String prefix() {
    return prefix;
  }

  /** The value named {@code shared} (the store's shared instance of the name), or null; may be {@link #DEFERRED}. */
  @Nullable Object getShared(String shared) {
    int n = size; // read before the array: an array read after holds at least n pairs
    Object[] e = entries;
    int i = indexOf(e, n, shared);
    return i < 0 ? null : SLOTS.getAcquire(e, i + 1);
  }

  /**
   * The value named {@code segment} (the store's shared instance), made from this table's prefix and the name when
   * there is none yet or only a {@link #DEFERRED} one.
   */
  synchronized Object getOrAdd(String segment, BiFunction<String, String, Object> make) {
    Object[] e = entries;
    int i = indexOf(e, size, segment);
    if (i >= 0 && e[i + 1] != DEFERRED) {
      return e[i + 1];
    }
    Object v = make.apply(prefix, segment);
    if (i >= 0) {
      SLOTS.setRelease(e, i + 1, v); // a reader holding this array sees DEFERRED or the whole new stat
    } else {
      append(segment, v);
    }
    return v;
  }

  /**
   * Adds each of {@code shared} (the store's shared instances) not here yet as {@link #DEFERRED}, growing the array
   * once to fit them and {@code spare} more pairs.
   */
  synchronized void defer(String[] shared, int spare) {
    int n = size;
    Object[] e = entries;
    if (2 * (n + shared.length) > e.length) {
      e = java.util.Arrays.copyOf(e, 2 * (n + shared.length + spare));
      entries = e;
    }
    for (String name : shared) {
      if (n == 0 || indexOf(e, n, name) < 0) { // the names are distinct: only those here before can match
        append(name, DEFERRED);
      }
    }
  }

  /** Sets the value named {@code segment} (the store's shared instance), replacing the one there. */
  synchronized void put(String segment, Object value) {
    Object[] e = entries;
    int i = indexOf(e, size, segment);
    if (i < 0) {
      append(segment, value);
    } else {
      SLOTS.setRelease(e, i + 1, value); // readers holding this array see the old value or the whole new one
    }
  }

  void forEach(BiConsumer<String, Object> each) {
    int n = size;
    Object[] e = entries;
    for (int i = 0; i < 2 * n; i += 2) {
      each.accept((String) e[i], SLOTS.getAcquire(e, i + 1));
    }
  }

  private static int indexOf(Object[] e, int pairs, String shared) {
    for (int i = 0; i < 2 * pairs; i += 2) {
      if (e[i] == shared) {
        return i;
      }
    }
    return -1;
  }

  /** Under the lock: writes the pair, then publishes it by the count. */
  private void append(String segment, Object value) {
    int n = size;
    Object[] e = entries;
    if (2 * n + 2 > e.length) {
      e = java.util.Arrays.copyOf(e, e.length * 2);
      entries = e;
    }
    e[2 * n] = segment;
    e[2 * n + 1] = value;
    size = n + 1;
  }
}
