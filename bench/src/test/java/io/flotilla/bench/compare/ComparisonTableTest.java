package io.flotilla.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flotilla.bench.load.RunResult;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ComparisonTableTest {
  @Test
  void pairsTheStoresByWorkloadAndClientsWithTheirRatio() {
    String table = ComparisonTable.format(
        List.of(result("Flotilla", "put", 16, 3000, 2_000, 5_000, 0), result("Flotilla", "get-strong", 16, 9000, 800, 3_000, 2)),
        List.of(result("etcd", "put", 16, 2000, 4_000, 7_000, 1), result("etcd", "get-strong", 16, 6000, 1_000, 5_000, 0)));
    assertEquals("""
        | workload   | clients | Flotilla ops/s | etcd ops/s | ratio | Flotilla p50 ms | Flotilla p99 ms | etcd p50 ms | etcd p99 ms | errors F/E |
        | ---------- | ------: | -------------: | ---------: | ----: | --------------: | --------------: | ----------: | ----------: | ---------: |
        | put        |      16 |            300 |        200 | 1.50x |            2.00 |            5.00 |        4.00 |        7.00 |        0/1 |
        | get-strong |      16 |            900 |        600 | 1.50x |            0.80 |            3.00 |        1.00 |        5.00 |        2/0 |
        """, table);
  }

  @Test
  void aStoreThatDidNotRunShowsDashes() {
    String table = ComparisonTable.format(List.of(result("Flotilla", "put", 64, 500, 1_000, 2_000, 0)), List.of());
    assertEquals("| put      |      64 |             50 |          - |     - |            1.00 |            2.00 |"
        + "           - |           - |        0/- |", table.lines().toList().get(2));
  }

  /**
   * A 10-second run of {@code answered} operations: 98 % at p50Micros, the rest at p99Micros
   * (values HdrHistogram's 3 digits hold exactly).
   */
  static RunResult result(String store, String workload, int clients, long answered, long p50Micros, long p99Micros,
      long failed) {
    Histogram h = new Histogram(3);
    h.recordValueWithCount(p50Micros, answered * 98 / 100);
    h.recordValueWithCount(p99Micros, answered - answered * 98 / 100);
    return new RunResult(store, workload, clients, 10, answered, 0, h,
        failed == 0 ? Map.of() : Map.of("HTTP 503 unavailable", failed));
  }
}
