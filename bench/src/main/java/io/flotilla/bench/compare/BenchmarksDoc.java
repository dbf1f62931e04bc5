package io.flotilla.bench.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keeps the latest comparison in docs/BENCHMARKS.md: the text between two marker comments is
 * replaced by each run, everything else in the file (methodology, tuning notes) is left as it is.
 * Without the markers the section is appended; without the file one is created.
 */
public final class BenchmarksDoc {
  static final String BEGIN = "<!-- bench compare: begin (bin/flotilla bench compare rewrites this part) -->";
  static final String END = "<!-- bench compare: end -->";

  private BenchmarksDoc() {}

  /** {@code doc} with the marked section's content replaced by {@code section} (or the section appended). */
  public static String withSection(String doc, String section) {
    String block = BEGIN + "\n" + section.strip() + "\n" + END;
    int begin = doc.indexOf(BEGIN);
    int end = begin < 0 ? -1 : doc.indexOf(END, begin);
    if (begin < 0 || end < 0) {
      String base = doc.isEmpty() ? "# Benchmarks\n" : doc;
      return base + (base.endsWith("\n") ? "\n" : "\n\n") + block + "\n";
    }
    return doc.substring(0, begin) + block + doc.substring(end + END.length());
  }

  public static void write(Path file, String section) throws IOException {
    String doc = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, withSection(doc, section), StandardCharsets.UTF_8);
  }
}
