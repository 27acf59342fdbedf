package io.bowline.filters.rbac;

/** A compiled RBAC permission or principal. */
@FunctionalInterface
interface RbacMatcher {
  boolean matches(RbacRequest r);

  RbacMatcher ANY = r -> true;
  RbacMatcher NONE = r -> false;
}
