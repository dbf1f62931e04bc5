package io.flotilla.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A table printed as Markdown with padded columns, so the same text reads well in a terminal and
 * renders in docs/BENCHMARKS.md. The first column is left-aligned, the others (numbers) right.
 */
public final class MarkdownTable {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  public MarkdownTable(String... header) {
    this.header = List.of(header);
  }

  public MarkdownTable row(String... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException("a row needs " + header.size() + " cells, got " + cells.length);
    }
    rows.add(List.of(cells));
    return this;
  }

  /** A number with {@code decimals} digits after the point, in the root locale. */
  public static String number(double value, int decimals) {
    return String.format(Locale.ROOT, "%,." + decimals + "f", value);
  }

  public String format() {
    int[] widths = new int[header.size()];
    for (int c = 0; c < widths.length; c++) {
      widths[c] = Math.max(3, header.get(c).length());
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], row.get(c).length());
      }
    }
    StringBuilder out = new StringBuilder();
    line(out, header, widths);
    out.append('|');
    for (int c = 0; c < widths.length; c++) {
      // "---" left-aligns the first column, "--:" right-aligns the numbers
      out.append(' ').append("-".repeat(c == 0 ? widths[c] : widths[c] - 1)).append(c == 0 ? "" : ":").append(" |");
    }
    out.append('\n');
    for (List<String> row : rows) {
      line(out, row, widths);
    }
    return out.toString();
  }

  private static void line(StringBuilder out, List<String> cells, int[] widths) {
    out.append('|');
    for (int c = 0; c < widths.length; c++) {
      String cell = cells.get(c);
      String pad = " ".repeat(widths[c] - cell.length());
      out.append(' ').append(c == 0 ? cell + pad : pad + cell).append(" |");
    }
    out.append('\n');
  }
}
