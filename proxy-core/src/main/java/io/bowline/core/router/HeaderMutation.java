package io.bowline.core.router;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/** Header additions and removals at one level (route, virtual host or route configuration). */
public record HeaderMutation(List<Add> add, List<String> remove) {
  public static final HeaderMutation NONE = new HeaderMutation(List.of(), List.of());

  public HeaderMutation {
    add = List.copyOf(add);
    remove = List.copyOf(remove);
  }

  /**
   * One header to add; {@code append} false overwrites, and {@code ifAbsent} only adds when missing. A value with
   * substitution commands has a {@code format}; one that renders empty is left out unless {@code keepEmpty}.
   */
  public record Add(String name, String value, boolean append, boolean ifAbsent,
      @org.jspecify.annotations.Nullable HeaderValueFormat format, boolean keepEmpty) {
    public Add(String name, String value, boolean append, boolean ifAbsent) {
      this(name, value, append, ifAbsent, null, false);
    }
  }

  public boolean isEmpty() {
    return add.isEmpty() && remove.isEmpty();
  }

  public void apply(HttpHeaders headers) {
    apply(headers, null);
  }

  /** Applies the changes; {@code ctx} renders values with substitution commands (none are added without it). */
  public void apply(HttpHeaders headers, HeaderValueFormat.@org.jspecify.annotations.Nullable Context ctx) {
    for (int i = 0; i < remove.size(); i++) {
      headers.remove(remove.get(i));
    }
    for (int i = 0; i < add.size(); i++) {
      Add a = add.get(i);
      String value = a.value();
      if (a.format() != null) {
        value = ctx == null ? "" : a.format().render(ctx);
        if (value.isEmpty() && !a.keepEmpty()) {
          continue;
        }
      }
      if (a.ifAbsent()) {
        if (!headers.contains(a.name())) {
          headers.add(a.name(), value);
        }
      } else if (a.append()) {
        headers.add(a.name(), value);
      } else {
        headers.set(a.name(), value);
      }
    }
  }
}
