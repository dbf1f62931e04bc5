package io.flotilla.pd;

import static io.flotilla.pd.ClusterDsl.cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaCheckerTest {
  private final PlacementConfig config = PlacementConfig.defaults(3);

  private Operator check(ClusterDsl c, long rangeId) {
    ClusterView view = c.view();
    return ReplicaChecker.check(view.range(rangeId).orElseThrow(), view, new Tally(view, List.of(), config), config);
  }

  @Test
  void aHealthyRangeNeedsNothing() {
    assertNull(check(cluster().up("n1", "n2", "n3", "n4").range(1, "n1", "n2", "n3"), 1));
  }

  @Test
  void aReplicaOnADownNodeIsReplacedOnTheLeastLoadedUpNode() {
    Operator op = check(cluster().up("n1", "n2", "n4", "n5").down("n3")
        .range(1, "n1", "n2", "n3").range(2, "n4", "n1", "n2"), 1);
    assertEquals("replace-down-replica", op.kind());
    assertEquals(List.of(new Step.AddReplica("n5"), new Step.RemoveReplica("n3")), op.steps());
    assertEquals(Operator.Priority.REPAIR, op.priority());
  }

  @Test
  void aMissingReplicaIsAdded() {
    Operator op = check(cluster().up("n1", "n2", "n3").range(1, "n1", "n2"), 1);
    assertEquals(List.of(new Step.AddReplica("n3")), op.steps());
  }

  @Test
  void aLeaderOnADecommissioningNodeHandsOverBeforeItsReplicaLeaves() {
    Operator op = check(cluster().up("n2", "n3", "n4").decommissioning("n1").range(1, "n1", "n2", "n3"), 1);
    assertEquals("move-off-decommissioning", op.kind());
    assertEquals(List.of(new Step.AddReplica("n4"), new Step.TransferLeader("n4"), new Step.RemoveReplica("n1")),
        op.steps());
  }

  @Test
  void aMoveOffADecommissioningNodeThatStoppedHalfWayOnlyRemovesItsReplica() {
    // The replacement joined, the handover failed: every up node holds a replica already.
    Operator op = check(cluster().up("n2", "n3", "n4").decommissioning("n1").range(1, "n1", "n2", "n3", "n4"), 1);
    assertEquals("move-off-decommissioning", op.kind());
    assertEquals(List.of(new Step.TransferLeader("n2"), new Step.RemoveReplica("n1")), op.steps());
  }

  @Test
  void anExtraReplicaLeavesTheFullestNodeAndTheLeaderIsNeverRemovedWhileLeading() {
    Operator op = check(cluster().up("n1", "n2", "n3", "n4")
        .range(1, "n1", "n2", "n3", "n4").range(2, "n1", "n2", "n3"), 1);
    assertEquals("remove-extra-replica", op.kind());
    // n1, n2 and n3 hold two replicas each; n3 is the largest id among the fullest.
    assertEquals(List.of(new Step.RemoveReplica("n3")), op.steps());
    Operator leaderVictim = check(cluster().up("n1", "n2", "n3", "n4")
        .range(1, "n4", "n1", "n2", "n3").range(2, "n4", "n5", "n6").range(3, "n4", "n7", "n8"), 1);
    assertEquals(List.of(new Step.TransferLeader("n1"), new Step.RemoveReplica("n4")), leaderVictim.steps());
  }

  @Test
  void aRangeThatLostItsQuorumIsLeftAloneItsGroupCannotChange() {
    assertNull(check(cluster().up("n1", "n4", "n5").down("n2", "n3").range(1, "n1", "n2", "n3"), 1));
  }

  @Test
  void withNoNodeToCopyToTheRepairWaits() {
    assertNull(check(cluster().up("n1", "n2").down("n3").range(1, "n1", "n2", "n3"), 1));
  }
}
