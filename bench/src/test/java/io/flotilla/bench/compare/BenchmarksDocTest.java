package io.flotilla.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BenchmarksDocTest {
  @Test
  void replacesOnlyTheMarkedSection() {
    String doc = "# Benchmarks\n\nHow to run.\n\n" + BenchmarksDoc.BEGIN + "\nold table\n" + BenchmarksDoc.END
        + "\n\n## Tuning notes\n\nkept\n";
    assertEquals("# Benchmarks\n\nHow to run.\n\n" + BenchmarksDoc.BEGIN + "\nnew table\n" + BenchmarksDoc.END
        + "\n\n## Tuning notes\n\nkept\n", BenchmarksDoc.withSection(doc, "new table\n"));
  }

  @Test
  void appendsTheSectionWhenTheMarkersAreMissing() {
    assertEquals("# Notes\n\n" + BenchmarksDoc.BEGIN + "\ntable\n" + BenchmarksDoc.END + "\n",
        BenchmarksDoc.withSection("# Notes\n", "table"));
  }

  @Test
  void startsADocumentWhenThereIsNone() {
    assertEquals("# Benchmarks\n\n" + BenchmarksDoc.BEGIN + "\ntable\n" + BenchmarksDoc.END + "\n",
        BenchmarksDoc.withSection("", "table"));
  }
}
