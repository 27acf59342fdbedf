package io.bowline.core.tls;

/**
 * A failed handshake in words. BoringSSL's engine wraps what actually went wrong (a certificate our rules refused, a
 * chain that does not verify) in "General OpenSslEngine problem"; the innermost cause is the part that helps.
 */
public final class HandshakeFailure {
  private HandshakeFailure() {}

  public static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String outer = String.valueOf(t.getMessage());
    if (root == t) {
      return outer;
    }
    return outer + " (caused by " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
  }
}
