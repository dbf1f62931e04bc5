package io.flotilla.pd;

import static io.flotilla.pd.ClusterDsl.cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class SplitAndMergeCheckerTest {
  private final PlacementConfig config = PlacementConfig.defaults(3).withSplitAndMerge(1000, 100, 100);

  private RangeView range(ClusterDsl c, long id) {
    return c.view().range(id).orElseThrow();
  }

  @Test
  void aRangeSplitsWhenTooLargeTooManyKeysOrTooHot() {
    ClusterDsl c = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n1", "n2", "n3")
        .range(3, "n1", "n2", "n3").range(4, "n1", "n2", "n3")
        .load(1, 1001, 10, 0).load(2, 10, 101, 0).load(3, 10, 10, 5000).load(4, 999, 99, 1);
    for (long id : new long[] {1, 2, 3}) {
      Operator op = SplitChecker.check(range(c, id), config);
      assertEquals("split", op.kind(), "range " + id);
      assertEquals(Step.SplitRange.class, op.steps().get(0).getClass());
    }
    assertNull(SplitChecker.check(range(c, 4), config));
  }

  @Test
  void smallColdColocatedNeighboursMerge() {
    ClusterDsl c = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n2", "n3", "n1")
        .load(1, 10, 5, 0).load(2, 20, 5, 0);
    Operator op = MergeChecker.check(range(c, 1), range(c, 2), c.view(), config);
    assertEquals(List.of(new Step.MergeWith(2)), op.steps());
  }

  @Test
  void neighboursOnDifferentNodesOrHotOrTooBigTogetherDoNotMerge() {
    ClusterDsl apart = cluster().up("n1", "n2", "n3", "n4").range(1, "n1", "n2", "n3").range(2, "n2", "n3", "n4");
    assertNull(MergeChecker.check(range(apart, 1), range(apart, 2), apart.view(), config));
    ClusterDsl hot = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n1", "n2", "n3")
        .load(2, 10, 1, 50);
    assertNull(MergeChecker.check(range(hot, 1), range(hot, 2), hot.view(), config));
    ClusterDsl big = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n1", "n2", "n3")
        .load(1, 99, 1, 0).load(2, 99, 1, 0).load(1, 99, 40, 0).load(2, 99, 40, 0);
    assertNull(MergeChecker.check(range(big, 1), range(big, 2), big.view(), config), "together they pass half the split keys");
    ClusterDsl down = cluster().up("n1", "n2").down("n3").range(1, "n1", "n2", "n3").range(2, "n1", "n2", "n3");
    assertNull(MergeChecker.check(range(down, 1), range(down, 2), down.view(), config),
        "a down replica could not confirm the freeze");
  }
}
