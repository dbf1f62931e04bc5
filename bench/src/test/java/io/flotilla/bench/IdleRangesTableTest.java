package io.flotilla.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flotilla.bench.IdleRangesMain.Footprint;
import io.flotilla.bench.IdleRangesMain.Row;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdleRangesTableTest {
  private static final long MB = 1 << 20;

  @Test
  void eachRowChargesItsAddedRangesWithTheGrowthSinceTheRowAbove() {
    Row ten = new Row(10, List.of(node(0.06, 300 * MB, 3), node(0.08, 310 * MB, 4)));
    Row hundred = new Row(100, List.of(node(0.15, 480 * MB, 33), node(0.17, 490 * MB, 34)));
    List<String> lines = IdleRangesMain.table(List.of(ten, hundred)).lines().toList();

    // 10 ranges over none: 7 % of a core (70 % per 1,000), 305 MB (30.5 MB each, baseline included)
    assertEquals(List.of("10", "3-4", "7.0", "305", "20", "8", "100", "700.0", "30.50"), cells(lines.get(2)));
    // 90 more ranges: 9 % more of a core (100 % per 1,000), 180 MB more (2 MB each)
    assertEquals(List.of("100", "33-34", "16.0", "485", "20", "8", "100", "100.0", "2.00"), cells(lines.get(3)));
  }

  private static Footprint node(double cpu, long rss, int leads) {
    return new Footprint(cpu, rss, 20 * MB, 8 * MB, 100, leads);
  }

  private static List<String> cells(String line) {
    return List.of(line.substring(1, line.length() - 1).split("\\|")).stream().map(String::trim).toList();
  }
}
