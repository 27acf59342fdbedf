package io.bowline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Executable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/control-path.jit.json}, the compiler directives {@code bin/bowline} hands the JVM: HotSpot accepts the
 * file (a bad one stops the JVM from starting), and every class and method it names exactly still exists — a
 * renamed method would silently fall back to being compiled by C2, and the first large xDS push would cost a second
 * of CPU more without any test noticing.
 */
class ControlPathDirectivesTest {
  private static final Path FILE = BowlineProcess.ROOT.resolve("bin/control-path.jit.json");

  @Test
  void hotSpotAcceptsTheFile() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "-XX:+UnlockDiagnosticVMOptions", "-XX:CompilerDirectivesFile=" + FILE,
        "-version").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains("1 compiler directives added"), out);
  }

  @Test
  void everyClassAndMethodItNamesExists() throws Exception {
    List<String> patterns = patterns(Files.readString(FILE));
    assertFalse(patterns.isEmpty(), "no match patterns found in " + FILE);
    List<String> missing = new ArrayList<>();
    for (String pattern : patterns) {
      int dot = pattern.lastIndexOf('.');
      String type = pattern.substring(0, dot).replace('/', '.');
      String method = pattern.substring(dot + 1);
      if (type.endsWith(".*")) {
        if (!onClasspath(type.substring(0, type.length() - 2))) {
          missing.add(pattern + " (no such package on the classpath)");
        }
        continue;
      }
      Class<?> c;
      try {
        c = Class.forName(type, false, getClass().getClassLoader());
      } catch (ClassNotFoundException e) {
        missing.add(pattern + " (no such class)");
        continue;
      }
      if (method.equals("*")) {
        continue;
      }
      Stream<Executable> members = method.equals("<init>") ? Arrays.stream(c.getDeclaredConstructors())
          : Arrays.stream(c.getDeclaredMethods()).filter(m -> m.getName().equals(method)).map(m -> m);
      if (members.findAny().isEmpty()) {
        missing.add(pattern + " (no such method)");
      }
    }
    assertEquals(List.of(), missing, "bin/control-path.jit.json names what is not there");
  }

  /** The quoted strings of the file's {@code match} arrays; comments are skipped. */
  private static List<String> patterns(String json) {
    String code = json.replaceAll("(?m)//.*$", "");
    List<String> out = new ArrayList<>();
    Matcher arrays = Pattern.compile("match\\s*:\\s*\\[([^\\]]*)\\]").matcher(code);
    while (arrays.find()) {
      Matcher q = Pattern.compile("\"([^\"]+)\"").matcher(arrays.group(1));
      while (q.find()) {
        out.add(q.group(1));
      }
    }
    return out;
  }

  /** Whether a package (or a package above others) is on the classpath, loaded yet or not. */
  private static boolean onClasspath(String pkg) throws Exception {
    return ControlPathDirectivesTest.class.getClassLoader().getResources(pkg.replace('.', '/')).hasMoreElements();
  }
}
