package io.flotilla.pd;

import static io.flotilla.pd.ClusterDsl.cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BalancerTest {
  private final PlacementConfig config = PlacementConfig.defaults(3);

  /** Six ranges on n1-n3 and an empty n4. */
  private ClusterDsl crowded() {
    ClusterDsl c = cluster().up("n1", "n2", "n3", "n4");
    for (long id = 1; id <= 6; id++) {
      c.range(id, "n" + (1 + id % 3), "n" + (1 + (id + 1) % 3), "n" + (1 + (id + 2) % 3));
    }
    return c;
  }

  @Test
  void replicasMoveFromTheFullestNodeToTheEmptiestUntilWithinTolerance() {
    PlacementConfig config = this.config.withLimits(10, 64, 16);
    ClusterView view = crowded().view();
    List<Operator> ops = ReplicaBalancer.balance(view, new Tally(view, List.of(), config), config, 10);
    // 18 replicas over 4 nodes: 6,6,6,0 -> 5,5,4,4, where max - min <= 1 stops the moves.
    assertEquals(4, ops.size(), ops::toString);
    for (Operator op : ops) {
      assertEquals(new Step.AddReplica("n4"), op.steps().get(0));
      assertEquals(Operator.Priority.BALANCE, op.priority());
      assertEquals(2, op.steps().size(), "the balancer prefers ranges the source does not lead: " + op);
    }
  }

  @Test
  void aNodeTakesNoMoreCopiesAtOnceThanItsSnapshotLimit() {
    ClusterView view = crowded().view();
    assertEquals(2, ReplicaBalancer.balance(view, new Tally(view, List.of(), config), config, 10).size());
  }

  @Test
  void aBalancedClusterGetsNoMoves() {
    ClusterView view = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n2", "n3", "n1").view();
    assertTrue(ReplicaBalancer.balance(view, new Tally(view, List.of(), config), config, 10).isEmpty());
    assertTrue(LeaderBalancer.balance(view, new Tally(view, List.of(), config), 10, java.util.Set.of()).isEmpty());
  }

  @Test
  void leadershipMovesFromTheNodeLeadingMostToItsLeastLoadedFollowers() {
    ClusterDsl c = cluster().up("n1", "n2", "n3");
    for (long id = 1; id <= 6; id++) {
      c.range(id, "n1", "n2", "n3");
    }
    ClusterView view = c.view();
    List<Operator> ops = LeaderBalancer.balance(view, new Tally(view, List.of(), config), 10, java.util.Set.of());
    assertEquals(4, ops.size(), ops::toString); // 6,0,0 -> 2,2,2
    long toN2 = ops.stream().filter(op -> op.steps().equals(List.of(new Step.TransferLeader("n2")))).count();
    assertEquals(2, toN2, ops::toString);
  }
}
