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

  /** One header to add; {@code append} false overwrites, and {@code ifAbsent} only adds when missing. */
  public record Add(String name, String value, boolean append, boolean ifAbsent) {}

  public boolean isEmpty() {
    return add.isEmpty() && remove.isEmpty();
  }

  public void apply(HttpHeaders headers) {
    for (int i = 0; i < remove.size(); i++) {
      headers.remove(remove.get(i));
    }
    for (int i = 0; i < add.size(); i++) {
      Add a = add.get(i);
      if (a.ifAbsent()) {
        if (!headers.contains(a.name())) {
          headers.add(a.name(), a.value());
        }
      } else if (a.append()) {
        headers.add(a.name(), a.value());
      } else {
        headers.set(a.name(), a.value());
      }
    }
  }
}
