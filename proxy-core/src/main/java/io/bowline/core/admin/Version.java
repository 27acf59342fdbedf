package io.bowline.core.admin;

/** The build's version, reported by /server_info and --version. */
public final class Version {
  public static final String VERSION = "0.1.0";

  private Version() {}
}
