package io.flotilla.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KeyDistributionTest {
  private static final long SEED = 7;
  private static final int DRAWS = 200_000;

  @Test
  void zipfianRanksFollowTheirProbabilities() {
    ZipfianGenerator zipf = new ZipfianGenerator(10_000, ZipfianGenerator.YCSB_THETA);
    SplittableRandom random = new SplittableRandom(SEED);
    long[] counts = new long[10_000];
    for (int i = 0; i < DRAWS; i++) {
      long rank = zipf.nextRank(random);
      assertTrue(rank >= 0 && rank < 10_000, "rank " + rank + " outside [0, 10000)");
      counts[(int) rank]++;
    }
    for (int rank : new int[] {0, 1, 2, 9, 99}) {
      double expected = zipf.probability(rank);
      double seen = counts[rank] / (double) DRAWS;
      assertEquals(expected, seen, expected * 0.15 + 0.0005, "rank " + rank + " (seed " + SEED + ")");
    }
    assertTrue(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[999],
        "popularity must fall with the rank");
  }

  @Test
  void theHottestRankDrawsAboutATenthOfTenThousandKeys() {
    ZipfianGenerator zipf = new ZipfianGenerator(10_000, ZipfianGenerator.YCSB_THETA);
    assertEquals(0.1, zipf.probability(0), 0.03);
  }

  @Test
  void scramblingIsABijectionSoNoKeyIsDrawnForTwoRanks() {
    for (long n : new long[] {1, 2, 26, 1000, 10_007}) {
      Set<Long> keys = new HashSet<>();
      for (long rank = 0; rank < n; rank++) {
        long key = KeyDistribution.ScrambledZipfian.keyOfRank(rank, n);
        assertTrue(key >= 0 && key < n);
        keys.add(key);
      }
      assertEquals(n, keys.size(), "n = " + n);
    }
  }

  @Test
  void scrambledHotKeysAreSpreadOverTheKeySpace() {
    long n = 10_000;
    Set<Long> tenths = new HashSet<>();
    for (long rank = 0; rank < 20; rank++) {
      tenths.add(KeyDistribution.ScrambledZipfian.keyOfRank(rank, n) * 10 / n);
    }
    assertTrue(tenths.size() >= 5, "the 20 hottest keys fall in only " + tenths.size() + " tenths of the key space");
  }

  @Test
  void uniformKeysCoverTheKeySpaceEvenly() {
    KeyChooser uniform = KeyDistribution.UNIFORM.over(new KeySpace(1000));
    SplittableRandom random = new SplittableRandom(SEED);
    long[] tenths = new long[10];
    for (int i = 0; i < DRAWS; i++) {
      long k = uniform.next(random);
      assertTrue(k >= 0 && k < 1000);
      tenths[(int) (k / 100)]++;
    }
    for (long count : tenths) {
      assertEquals(DRAWS / 10.0, count, DRAWS / 10.0 * 0.05);
    }
  }

  @Test
  void latestFavoursTheNewestInsertedKeys() {
    KeySpace keys = new KeySpace(1000);
    for (int i = 0; i < 500; i++) {
      keys.claimInsert();
    }
    KeyChooser latest = KeyDistribution.LATEST.over(keys);
    SplittableRandom random = new SplittableRandom(SEED);
    long newest = 0;
    for (int i = 0; i < 10_000; i++) {
      long k = latest.next(random);
      assertTrue(k >= 0 && k < 1500, "key " + k + " was never claimed");
      if (k >= 1400) {
        newest++;
      }
    }
    assertTrue(newest > 5_000, "only " + newest + " of 10000 reads hit the 100 newest keys");
  }

  @Test
  void anUnknownDistributionNamesTheChoices() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KeyDistribution.parse("gauss"));
    assertTrue(e.getMessage().contains("uniform, zipfian or latest"));
  }

  @Test
  void keysCycleTheirFirstLetterSoNeighboursLandInDifferentRanges() {
    assertEquals("a/bench/0", KeySpace.keyOf(0));
    assertEquals("b/bench/1", KeySpace.keyOf(1));
    assertEquals("a/bench/26", KeySpace.keyOf(26));
  }
}
