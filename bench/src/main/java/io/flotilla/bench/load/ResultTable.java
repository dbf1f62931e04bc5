package io.flotilla.bench.load;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The table of one store's runs, as {@code bench load} prints it, and the failure summary of any runs. */
public final class ResultTable {
  private ResultTable() {}

  public static String format(List<RunResult> results) {
    MarkdownTable table = new MarkdownTable("workload", "clients", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
        "missing", "errors");
    for (RunResult r : results) {
      table.row(r.workload(), Integer.toString(r.clients()), MarkdownTable.number(r.opsPerSecond(), 0),
          MarkdownTable.number(r.millisAt(50), 2), MarkdownTable.number(r.millisAt(99), 2),
          MarkdownTable.number(r.millisAt(99.9), 2), MarkdownTable.number(r.maxMillis(), 2),
          Long.toString(r.missing()), Long.toString(r.failed()));
    }
    return table.format();
  }

  /**
   * One line per store, workload and cause of failure, with counts; empty when nothing failed.
   * Failures are what to look into first: a fast store that drops requests is not fast.
   */
  public static String failures(List<RunResult> results) {
    StringBuilder out = new StringBuilder();
    for (RunResult r : results) {
      Map<String, Long> sorted = new TreeMap<>(r.failures());
      sorted.forEach((cause, n) -> out.append("- ").append(r.store()).append(' ').append(r.workload()).append(" x")
          .append(r.clients()).append(": ").append(n).append(" x ").append(cause).append('\n'));
    }
    return out.toString();
  }
}
