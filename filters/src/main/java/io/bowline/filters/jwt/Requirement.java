package io.bowline.filters.jwt;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** A {@code JwtRequirement}, compiled, and Envoy's way of judging it from each provider's outcome. */
sealed interface Requirement {
  /** The providers whose tokens the requirement looks at. */
  void providers(Set<JwtProvider> into);

  /** The outcome, given each provider's and whether any of them found a token at all. */
  JwtProvider.Status judge(Map<JwtProvider, JwtProvider.Status> results, boolean anyToken);

  record Provider(JwtProvider provider) implements Requirement {
    public void providers(Set<JwtProvider> into) {
      into.add(provider);
    }

    public JwtProvider.Status judge(Map<JwtProvider, JwtProvider.Status> results, boolean anyToken) {
      return results.getOrDefault(provider, JwtProvider.Status.MISSING);
    }
  }

  /** {@code requires_any}: one success is enough; otherwise the gravest failure. */
  record Any(List<Requirement> children) implements Requirement {
    public void providers(Set<JwtProvider> into) {
      children.forEach(c -> c.providers(into));
    }

    public JwtProvider.Status judge(Map<JwtProvider, JwtProvider.Status> results, boolean anyToken) {
      JwtProvider.Status worst = JwtProvider.Status.MISSING;
      for (Requirement c : children) {
        JwtProvider.Status s = c.judge(results, anyToken);
        if (s == JwtProvider.Status.OK) {
          return s;
        }
        if (s != JwtProvider.Status.MISSING) {
          worst = s;
        }
      }
      return worst;
    }
  }

  /** {@code requires_all}: every one must succeed. */
  record All(List<Requirement> children) implements Requirement {
    public void providers(Set<JwtProvider> into) {
      children.forEach(c -> c.providers(into));
    }

    public JwtProvider.Status judge(Map<JwtProvider, JwtProvider.Status> results, boolean anyToken) {
      for (Requirement c : children) {
        JwtProvider.Status s = c.judge(results, anyToken);
        if (s != JwtProvider.Status.OK) {
          return s;
        }
      }
      return JwtProvider.Status.OK;
    }
  }

  /** {@code allow_missing}: no token passes; a token that is there must verify (elsewhere in the requirement). */
  record AllowMissing() implements Requirement {
    public void providers(Set<JwtProvider> into) {}

    public JwtProvider.Status judge(Map<JwtProvider, JwtProvider.Status> results, boolean anyToken) {
      return anyToken ? JwtProvider.Status.FAILED : JwtProvider.Status.OK;
    }
  }

  /** {@code allow_missing_or_failed}: always passes; a valid token still has its effects. */
  record AllowMissingOrFailed() implements Requirement {
    public void providers(Set<JwtProvider> into) {}

    public JwtProvider.Status judge(Map<JwtProvider, JwtProvider.Status> results, boolean anyToken) {
      return JwtProvider.Status.OK;
    }
  }
}
