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
        .range(3, "n1", "n2", "n3").range(4, "n1", "n2", "n3").range(5, "n1", "n2", "n3")
        .load(1, 1001, 10, 0).load(2, 10, 101, 0).load(3, 10, 10, 5000).loadSplitKey(3, "k000000000003-hot")
        .load(4, 999, 99, 1).load(5, 10, 10, 5000);
    for (long id : new long[] {1, 2}) {
      Operator op = SplitChecker.check(range(c, id), config);
      assertEquals("split", op.kind(), "range " + id);
      assertEquals(new Step.SplitRange(op.reason()), op.steps().get(0), "at the middle key: " + op);
    }
    Operator hot = SplitChecker.check(range(c, 3), config);
    assertEquals("k000000000003-hot",
        new String(((Step.SplitRange) hot.steps().get(0)).at(), java.nio.charset.StandardCharsets.UTF_8),
        "a hot range splits where its writes divide");
    assertNull(SplitChecker.check(range(c, 4), config));
    assertNull(SplitChecker.check(range(c, 5), config), "hot, but all its writes hit one key: no split helps");
  }

  @Test
  void smallColdColocatedNeighboursMerge() {
    ClusterDsl c = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n2", "n3", "n1")
        .load(1, 10, 5, 0).load(2, 20, 5, 0);
    Operator op = MergeChecker.check(range(c, 1), range(c, 2), c.view(), config);
    assertEquals(List.of(new Step.MergeWith(2)), op.steps());
  }

  @Test
  void neighboursOnDifferentNodesAreColocatedFirstOneReplicaAtATime() {
    ClusterDsl apart = cluster().up("n1", "n2", "n3", "n4").range(1, "n1", "n2", "n3").range(2, "n4", "n2", "n3");
    Operator op = MergeChecker.check(range(apart, 1), range(apart, 2), apart.view(), config);
    assertEquals(2, op.rangeId(), "the right range moves");
    assertEquals("colocate-for-merge", op.kind());
    assertEquals(List.of(new Step.AddReplica("n1"), new Step.TransferLeader("n1"), new Step.RemoveReplica("n4")),
        op.steps());
  }

  @Test
  void hotOrTooBigTogetherOrDownNeighboursDoNotMerge() {
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
