package io.bowline.core.filter;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The header map of an HTTP message as bowline's codecs make it: names and values side by side in one array, in the
 * order they were added, found by a linear scan that compares name lengths (kept in a second array) before it reads a
 * name. A message has a handful of fields, and most lookups name a constant that the codec interned the parsed name
 * to, so a match is mostly the same object. Netty's {@code DefaultHttpHeaders} made an entry object per field, a
 * bucket array and two more objects per map, and hashed every name added: measured with the benchmark's load, a
 * proxied request allocated 2,500 bytes with it and 2,020 with this (BENCHMARKS.md).
 *
 * <p>It answers as {@code DefaultHttpHeaders} built without validation does (as the codecs built theirs): names
 * compared without case, {@code get} the first value added, {@code set} replacing every value with one added last,
 * objects stored as Netty stores them (a {@link CharSequence} as it is, a date in HTTP's format, anything else by
 * its {@code toString}). One difference, on purpose: a name's values iterate in the order they were added, where
 * Netty's iterate newest first.
 */
public final class ArrayHttpHeaders extends HttpHeaders {
  /** Name at {@code 2i}, value at {@code 2i + 1}. */
  private CharSequence[] fields;
  /**
   * Each field's name's {@link #tag}: a scan compares these ints and reads a name only where its length agrees with
   * the wanted one's, so most lookups of an absent name touch no name object.
   */
  private int[] tags;
  private int size;

  public ArrayHttpHeaders() {
    fields = new CharSequence[16];
    tags = new int[8];
  }

  private ArrayHttpHeaders(CharSequence[] fields, int[] tags, int size) {
    this.fields = fields;
    this.tags = tags;
    this.size = size;
  }

  // ------------------------------------------------------------------ bowline's own fast paths

  /** Adds a field as a codec parsed it: no conversion, no check. */
  public void addParsed(CharSequence name, CharSequence value) {
    append(name, value);
  }

  /** The first value of {@code name}, as it is stored (a codec's value is a view of the message's bytes), or null. */
  public @Nullable CharSequence first(CharSequence name) {
    int i = find(name, tag(name), 0);
    return i < 0 ? null : fields[2 * i + 1];
  }

  /** The number of fields; {@link #nameAt} and {@link #valueAt} read them in order without an iterator. */
  @Override
  public int size() {
    return size;
  }

  public CharSequence nameAt(int i) {
    Objects.checkIndex(i, size);
    return fields[2 * i];
  }

  public CharSequence valueAt(int i) {
    Objects.checkIndex(i, size);
    return fields[2 * i + 1];
  }

  // ------------------------------------------------------------------ reading

  @Override
  public @Nullable String get(String name) {
    return get((CharSequence) name);
  }

  @Override
  public @Nullable String get(CharSequence name) {
    CharSequence v = first(name);
    return v == null ? null : v.toString();
  }

  @Override
  public String get(CharSequence name, String defaultValue) {
    String v = get(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public @Nullable Integer getInt(CharSequence name) {
    CharSequence v = first(name);
    if (v == null) {
      return null;
    }
    try {
      return v instanceof AsciiString a ? a.parseInt() : Integer.parseInt(v.toString());
    } catch (RuntimeException notANumber) {
      return null;
    }
  }

  @Override
  public int getInt(CharSequence name, int defaultValue) {
    Integer v = getInt(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public @Nullable Short getShort(CharSequence name) {
    CharSequence v = first(name);
    if (v == null) {
      return null;
    }
    try {
      return v instanceof AsciiString a ? a.parseShort() : Short.parseShort(v.toString());
    } catch (RuntimeException notANumber) {
      return null;
    }
  }

  @Override
  public short getShort(CharSequence name, short defaultValue) {
    Short v = getShort(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public @Nullable Long getTimeMillis(CharSequence name) {
    CharSequence v = first(name);
    if (v == null) {
      return null;
    }
    Date d = DateFormatter.parseHttpDate(v);
    return d == null ? null : d.getTime();
  }

  @Override
  public long getTimeMillis(CharSequence name, long defaultValue) {
    Long v = getTimeMillis(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public List<String> getAll(String name) {
    return getAll((CharSequence) name);
  }

  @Override
  public List<String> getAll(CharSequence name) {
    List<String> all = new ArrayList<>(2);
    int tag = tag(name);
    for (int i = find(name, tag, 0); i >= 0; i = find(name, tag, i + 1)) {
      all.add(fields[2 * i + 1].toString());
    }
    return all;
  }

  @Override
  public Iterator<String> valueStringIterator(CharSequence name) {
    Iterator<CharSequence> values = valueCharSequenceIterator(name);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return values.hasNext();
      }

      @Override
      public String next() {
        return values.next().toString();
      }
    };
  }

  @Override
  public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
    int tag = tag(name);
    return new Iterator<>() {
      private int next = find(name, tag, 0);

      @Override
      public boolean hasNext() {
        return next >= 0;
      }

      @Override
      public CharSequence next() {
        if (next < 0) {
          throw new NoSuchElementException();
        }
        CharSequence v = fields[2 * next + 1];
        next = find(name, tag, next + 1);
        return v;
      }
    };
  }

  @Override
  public List<Map.Entry<String, String>> entries() {
    List<Map.Entry<String, String>> all = new ArrayList<>(size);
    for (int i = 0; i < size * 2; i += 2) {
      all.add(new AbstractMap.SimpleImmutableEntry<>(fields[i].toString(), fields[i + 1].toString()));
    }
    return all;
  }

  @Override
  public boolean contains(String name) {
    return find(name, tag(name), 0) >= 0;
  }

  @Override
  public boolean contains(CharSequence name) {
    return find(name, tag(name), 0) >= 0;
  }

  @Override
  public boolean contains(String name, String value, boolean ignoreCase) {
    return contains((CharSequence) name, value, ignoreCase);
  }

  /** Whether a value of {@code name} is {@code value} as a whole (as Netty's map compares them). */
  @Override
  public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
    int tag = tag(name);
    for (int i = find(name, tag, 0); i >= 0; i = find(name, tag, i + 1)) {
      CharSequence v = fields[2 * i + 1];
      if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(v, value) : AsciiString.contentEquals(v, value)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Iterator<Map.Entry<String, String>> iterator() {
    return entries().iterator();
  }

  @Override
  public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < size;
      }

      @Override
      public Map.Entry<CharSequence, CharSequence> next() {
        if (next >= size) {
          throw new NoSuchElementException();
        }
        int i = 2 * next++;
        return new AbstractMap.SimpleImmutableEntry<>(fields[i], fields[i + 1]);
      }
    };
  }

  @Override
  public boolean isEmpty() {
    return size == 0;
  }

  /** The names in the order first added, each once whatever its case. */
  @Override
  public Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < size; i++) {
      CharSequence name = fields[2 * i];
      if (find(name, tags[i], 0) == i) {
        names.add(name.toString());
      }
    }
    return names;
  }

  // ------------------------------------------------------------------ writing

  @Override
  public HttpHeaders add(String name, Object value) {
    return add((CharSequence) name, value);
  }

  @Override
  public HttpHeaders add(CharSequence name, Object value) {
    append(Objects.requireNonNull(name, "name"), convert(value));
    return this;
  }

  @Override
  public HttpHeaders add(String name, Iterable<?> values) {
    return add((CharSequence) name, values);
  }

  @Override
  public HttpHeaders add(CharSequence name, Iterable<?> values) {
    Objects.requireNonNull(name, "name");
    for (Object v : values) {
      append(name, convert(v));
    }
    return this;
  }

  @Override
  public HttpHeaders add(HttpHeaders headers) {
    if (headers == this) {
      throw new IllegalArgumentException("can't add to itself.");
    }
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      append(e.getKey(), e.getValue());
    }
    return this;
  }

  @Override
  public HttpHeaders addInt(CharSequence name, int value) {
    append(Objects.requireNonNull(name, "name"), String.valueOf(value));
    return this;
  }

  @Override
  public HttpHeaders addShort(CharSequence name, short value) {
    append(Objects.requireNonNull(name, "name"), String.valueOf(value));
    return this;
  }

  @Override
  public HttpHeaders set(String name, Object value) {
    return set((CharSequence) name, value);
  }

  @Override
  public HttpHeaders set(CharSequence name, Object value) {
    CharSequence v = convert(value);
    removeAll(Objects.requireNonNull(name, "name"));
    append(name, v);
    return this;
  }

  @Override
  public HttpHeaders set(String name, Iterable<?> values) {
    return set((CharSequence) name, values);
  }

  @Override
  public HttpHeaders set(CharSequence name, Iterable<?> values) {
    Objects.requireNonNull(name, "name");
    removeAll(name);
    for (Object v : values) {
      if (v == null) {
        break; // as Netty's map: the values up to the first null
      }
      append(name, convert(v));
    }
    return this;
  }

  @Override
  public HttpHeaders set(HttpHeaders headers) {
    if (headers != this) {
      clear();
      add(headers);
    }
    return this;
  }

  @Override
  public HttpHeaders setInt(CharSequence name, int value) {
    return set(name, String.valueOf(value));
  }

  @Override
  public HttpHeaders setShort(CharSequence name, short value) {
    return set(name, String.valueOf(value));
  }

  @Override
  public HttpHeaders remove(String name) {
    return remove((CharSequence) name);
  }

  @Override
  public HttpHeaders remove(CharSequence name) {
    removeAll(name);
    return this;
  }

  @Override
  public HttpHeaders clear() {
    Arrays.fill(fields, 0, size * 2, null);
    size = 0;
    return this;
  }

  @Override
  public HttpHeaders copy() {
    return new ArrayHttpHeaders(fields.clone(), tags.clone(), size);
  }

  // ------------------------------------------------------------------ internals

  private void append(CharSequence name, CharSequence value) {
    int i = size;
    if (i == tags.length) {
      fields = Arrays.copyOf(fields, 4 * i);
      tags = Arrays.copyOf(tags, 2 * i);
    }
    fields[2 * i] = name;
    fields[2 * i + 1] = value;
    tags[i] = tag(name);
    size = i + 1;
  }

  /** The first field at or after {@code from} whose name is {@code name} (whose tag is {@code tag}), or -1. */
  private int find(CharSequence name, int tag, int from) {
    int[] t = tags;
    for (int i = from, n = size; i < n; i++) {
      if (t[i] == tag) {
        CharSequence other = fields[2 * i];
        // the codecs intern common names to the constants lookups use: most matches are the same object
        if (other == name || AsciiString.contentEqualsIgnoreCase(other, name)) {
          return i;
        }
      }
    }
    return -1;
  }

  private void removeAll(CharSequence name) {
    int tag = tag(name);
    int kept = find(name, tag, 0);
    if (kept < 0) {
      return;
    }
    CharSequence[] f = fields;
    int[] t = tags;
    for (int i = kept + 1; i < size; i++) {
      if (t[i] != tag || !(f[2 * i] == name || AsciiString.contentEqualsIgnoreCase(f[2 * i], name))) {
        f[2 * kept] = f[2 * i];
        f[2 * kept + 1] = f[2 * i + 1];
        t[kept] = t[i];
        kept++;
      }
    }
    Arrays.fill(f, 2 * kept, 2 * size, null);
    size = kept;
  }

  /**
   * A name's tag, equal for names equal without case: its length. Not a hash or a letter of it: that would read the
   * wanted name's bytes on every lookup, a cache miss in the proxy's profile where a constant's are not in cache.
   */
  private static int tag(CharSequence name) {
    return name.length();
  }

  private static CharSequence convert(Object value) {
    Objects.requireNonNull(value, "value");
    if (value instanceof CharSequence cs) {
      return cs;
    }
    if (value instanceof Date d) {
      return DateFormatter.format(d);
    }
    if (value instanceof Calendar c) {
      return DateFormatter.format(c.getTime());
    }
    return value.toString();
  }
}
