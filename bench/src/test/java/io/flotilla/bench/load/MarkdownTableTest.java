package io.flotilla.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MarkdownTableTest {
  @Test
  void padsColumnsAndRightAlignsTheNumbers() {
    String table = new MarkdownTable("workload", "ops/s").row("put", "1,234").row("get-strong", "56").format();
    assertEquals("""
        | workload   | ops/s |
        | ---------- | ----: |
        | put        | 1,234 |
        | get-strong |    56 |
        """, table);
  }

  @Test
  void numbersUseTheRootLocaleWithThousandsSeparators() {
    assertEquals("12,345.68", MarkdownTable.number(12_345.678, 2));
    assertEquals("0", MarkdownTable.number(0.4, 0));
  }

  @Test
  void aRowOfTheWrongWidthIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new MarkdownTable("a", "b").row("only one"));
  }
}
