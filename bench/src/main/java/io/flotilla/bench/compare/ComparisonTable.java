package io.flotilla.bench.compare;

import io.flotilla.bench.load.MarkdownTable;
import io.flotilla.bench.load.RunResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The comparison's one table: a row per workload and client count with each store's throughput,
 * the ratio Flotilla / etcd (the figure issue 7's targets are stated in) and each store's p50 and
 * p99. A store that did not run (see {@code --only}) shows "-".
 */
public final class ComparisonTable {
  private ComparisonTable() {}

  public static String format(List<RunResult> flotilla, List<RunResult> etcd) {
    Map<String, RunResult[]> rows = new LinkedHashMap<>();
    for (RunResult r : flotilla) {
      rows.computeIfAbsent(r.workload() + "\0" + r.clients(), k -> new RunResult[2])[0] = r;
    }
    for (RunResult r : etcd) {
      rows.computeIfAbsent(r.workload() + "\0" + r.clients(), k -> new RunResult[2])[1] = r;
    }
    MarkdownTable table = new MarkdownTable("workload", "clients", "Flotilla ops/s", "etcd ops/s", "ratio",
        "Flotilla p50 ms", "Flotilla p99 ms", "etcd p50 ms", "etcd p99 ms", "errors F/E");
    for (RunResult[] pair : rows.values()) {
      RunResult f = pair[0];
      RunResult e = pair[1];
      RunResult any = f != null ? f : e;
      List<String> cells = new ArrayList<>(List.of(any.workload(), Integer.toString(any.clients()),
          f == null ? "-" : MarkdownTable.number(f.opsPerSecond(), 0),
          e == null ? "-" : MarkdownTable.number(e.opsPerSecond(), 0),
          ratio(f, e)));
      for (RunResult r : pair) {
        cells.add(r == null ? "-" : MarkdownTable.number(r.millisAt(50), 2));
        cells.add(r == null ? "-" : MarkdownTable.number(r.millisAt(99), 2));
      }
      cells.add((f == null ? "-" : Long.toString(f.failed())) + "/" + (e == null ? "-" : Long.toString(e.failed())));
      table.row(cells.toArray(new String[0]));
    }
    return table.format();
  }

  /** Flotilla's throughput over etcd's, such as "1.52x"; "-" unless both ran and etcd answered. */
  static String ratio(RunResult flotilla, RunResult etcd) {
    if (flotilla == null || etcd == null || etcd.opsPerSecond() == 0) {
      return "-";
    }
    return MarkdownTable.number(flotilla.opsPerSecond() / etcd.opsPerSecond(), 2) + "x";
  }
}
