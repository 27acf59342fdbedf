package io.bowline.filters.rbac;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.bowline.core.compile.HeaderMatchers;
import io.bowline.core.router.HeaderMatcher;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.List;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * {@code type.matcher.v3.MetadataMatcher} on the stream's dynamic metadata: the value at {@code path} in the
 * {@code filter}'s namespace (jwt_authn's verified payload, for claims) against a {@code ValueMatcher} — string,
 * bool, double (exact or range), present, null, {@code list_match.one_of}, {@code or_match}; {@code invert} flips it.
 * An absent value matches only {@code null_match} (and an inverted matcher).
 */
public final class MetadataMatchers {
  private MetadataMatchers() {}

  static RbacMatcher compile(MetadataMatcher m, String path) throws ConfigException {
    Predicate<java.util.function.Function<String, @Nullable Struct>> p = of(m, path);
    return r -> p.test(r.metadata());
  }

  /** The matcher over a stream's dynamic metadata (namespace → Struct); ext_authz's filter_enabled_metadata too. */
  public static Predicate<java.util.function.Function<String, @Nullable Struct>> of(MetadataMatcher m, String path)
      throws ConfigException {
    if (m.getPathCount() == 0) {
      throw new ConfigException(path + ".path", "at least one key is required");
    }
    String filter = m.getFilter();
    List<String> keys = m.getPathList().stream().map(MetadataMatcher.PathSegment::getKey).toList();
    Predicate<@Nullable Value> value = value(m.getValue(), path + ".value");
    boolean invert = m.getInvert();
    return md -> value.test(lookup(md.apply(filter), keys)) != invert;
  }

  private static @Nullable Value lookup(@Nullable Struct s, List<String> keys) {
    Value v = null;
    Struct at = s;
    for (String k : keys) {
      if (at == null) {
        return null;
      }
      v = at.getFieldsMap().get(k);
      if (v == null) {
        return null;
      }
      at = v.hasStructValue() ? v.getStructValue() : null;
    }
    return v;
  }

  static Predicate<@Nullable Value> value(ValueMatcher m, String path) throws ConfigException {
    switch (m.getMatchPatternCase()) {
      case NULL_MATCH -> {
        return v -> v == null || v.hasNullValue();
      }
      case PRESENT_MATCH -> {
        boolean want = m.getPresentMatch();
        return v -> (v != null && !v.hasNullValue()) == want;
      }
      case BOOL_MATCH -> {
        boolean want = m.getBoolMatch();
        return v -> v != null && v.hasBoolValue() && v.getBoolValue() == want;
      }
      case STRING_MATCH -> {
        HeaderMatcher s = HeaderMatchers.ofValue("metadata", m.getStringMatch(), path + ".string_match");
        return v -> v != null && v.hasStringValue() && s.matchesValue(v.getStringValue());
      }
      case DOUBLE_MATCH -> {
        var d = m.getDoubleMatch();
        if (d.hasRange()) {
          double lo = d.getRange().getStart();
          double hi = d.getRange().getEnd();
          return v -> v != null && v.hasNumberValue() && v.getNumberValue() >= lo && v.getNumberValue() < hi;
        }
        double exact = d.getExact();
        return v -> v != null && v.hasNumberValue() && v.getNumberValue() == exact;
      }
      case LIST_MATCH -> {
        Predicate<@Nullable Value> one = value(m.getListMatch().getOneOf(), path + ".list_match.one_of");
        return v -> v != null && v.hasListValue() && v.getListValue().getValuesList().stream().anyMatch(one);
      }
      case OR_MATCH -> {
        var list = m.getOrMatch().getValueMatchersList();
        List<Predicate<@Nullable Value>> any = new java.util.ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          any.add(value(list.get(i), path + ".or_match.value_matchers[" + i + "]"));
        }
        return v -> any.stream().anyMatch(p -> p.test(v));
      }
      default -> throw new ConfigException(path, "value matcher " + m.getMatchPatternCase()
          + " is not supported by bowline yet");
    }
  }
}
