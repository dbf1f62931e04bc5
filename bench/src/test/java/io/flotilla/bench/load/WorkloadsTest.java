package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WorkloadsTest {
  private static final int DRAWS = 100_000;

  @Test
  void everyListedNameParses() {
    for (String name : Workloads.NAMES) {
      assertEquals(name, Workloads.parse(name, KeyDistribution.UNIFORM).name());
    }
  }

  @Test
  void ycsbMixesDrawTheirStandardProportions() {
    assertDraws("ycsb-a", Map.of(OpKind.READ, 0.5, OpKind.UPDATE, 0.5));
    assertDraws("ycsb-b", Map.of(OpKind.READ, 0.95, OpKind.UPDATE, 0.05));
    assertDraws("ycsb-c", Map.of(OpKind.READ, 1.0));
    assertDraws("ycsb-d", Map.of(OpKind.READ, 0.95, OpKind.INSERT, 0.05));
    assertDraws("ycsb-e", Map.of(OpKind.SCAN, 0.95, OpKind.INSERT, 0.05));
    assertDraws("ycsb-f", Map.of(OpKind.READ, 0.5, OpKind.READ_MODIFY_WRITE, 0.5));
  }

  @Test
  void ycsbWorkloadsKeepTheirOwnDistributionWhateverTheOptionSays() {
    assertEquals(KeyDistribution.ZIPFIAN, Workloads.parse("ycsb-a", KeyDistribution.UNIFORM).keys());
    assertEquals(KeyDistribution.LATEST, Workloads.parse("ycsb-d", KeyDistribution.UNIFORM).keys());
    assertEquals(KeyDistribution.ZIPFIAN, Workloads.parse("put", KeyDistribution.ZIPFIAN).keys());
  }

  @Test
  void readWorkloadsCarryTheirConsistency() {
    assertEquals(Consistency.STRONG, Workloads.parse("get-strong", KeyDistribution.UNIFORM).readMode());
    assertEquals(Consistency.FOLLOWER, Workloads.parse("get-follower", KeyDistribution.UNIFORM).readMode());
    assertEquals(Consistency.STALE, Workloads.parse("get-stale", KeyDistribution.UNIFORM).readMode());
  }

  @Test
  void scansReadTenToAHundredKeysAndYcsbEOneToAHundred() {
    Workload scan = Workloads.parse("scan", KeyDistribution.UNIFORM);
    assertEquals(List.of(10, 100), List.of(scan.minScan(), scan.maxScan()));
    Workload e = Workloads.parse("ycsb-e", KeyDistribution.UNIFORM);
    assertEquals(List.of(1, 100), List.of(e.minScan(), e.maxScan()));
  }

  @Test
  void anUnknownWorkloadListsTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Workloads.parseAll(List.of("put", "ycsb-z"), KeyDistribution.UNIFORM));
    assertTrue(e.getMessage().contains("ycsb-z") && e.getMessage().contains("get-stale"), e.getMessage());
  }

  private static void assertDraws(String workload, Map<OpKind, Double> expected) {
    OpMix mix = Workloads.parse(workload, KeyDistribution.UNIFORM).mix();
    SplittableRandom random = new SplittableRandom(11);
    Map<OpKind, Integer> counts = new EnumMap<>(OpKind.class);
    for (int i = 0; i < DRAWS; i++) {
      counts.merge(mix.pick(random), 1, Integer::sum);
    }
    assertEquals(expected.keySet(), counts.keySet(), workload);
    expected.forEach((kind, p) -> assertEquals(p, counts.get(kind) / (double) DRAWS, 0.01, workload + " " + kind));
  }
}
