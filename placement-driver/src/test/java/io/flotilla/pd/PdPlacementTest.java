package io.flotilla.pd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PdPlacementTest {
  private static List<NodeView> nodes(Object... idThenState) {
    List<NodeView> out = new ArrayList<>();
    for (int i = 0; i < idThenState.length; i += 2) {
      out.add(new NodeView((String) idThenState[i], (NodeState) idThenState[i + 1]));
    }
    return out;
  }

  /** No change of the group with these members, nodes and leader. */
  private static void assertStays(List<String> members, List<NodeView> nodes, String leader) {
    assertEquals(Optional.empty(), PdPlacement.next(members, nodes, leader, Set.of()));
  }

  private static List<Step> steps(Optional<Operator> op) {
    assertTrue(op.isPresent(), "expected a change");
    assertTrue(PdPlacement.isPlacementDriver(op.get()), op.get()::toString);
    return op.get().steps();
  }

  @Test
  void threeHealthyMembersStayWhereTheyAre() {
    assertStays(List.of("n1", "n2", "n3"),
        nodes("n1", NodeState.UP, "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.UP), "n1");
  }

  @Test
  void aDecommissioningMemberIsReplacedByTheFirstNodeThatIsUpNewOneFirst() {
    Optional<Operator> op = PdPlacement.next(List.of("n1", "n2", "n3"), nodes("n1", NodeState.DECOMMISSIONING,
        "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.SUSPECT, "n5", NodeState.UP), "n1", Set.of());
    assertEquals(List.of(new Step.AddReplica("n5"), new Step.RemoveReplica("n1")), steps(op));
    assertTrue(op.get().reason().contains("n1 is decommissioning"), op.get().reason());
  }

  @Test
  void downAndRemovedMembersAreReplacedOneAtATime() {
    List<NodeView> nodes = nodes("n1", NodeState.DOWN, "n2", NodeState.REMOVED, "n3", NodeState.UP,
        "n4", NodeState.UP, "n5", NodeState.UP);
    assertEquals(List.of(new Step.AddReplica("n4"), new Step.RemoveReplica("n1")),
        steps(PdPlacement.next(List.of("n1", "n2", "n3"), nodes, "n3", Set.of())));
    assertEquals(List.of(new Step.AddReplica("n5"), new Step.RemoveReplica("n2")),
        steps(PdPlacement.next(List.of("n2", "n3", "n4"), nodes, "n3", Set.of())));
    assertStays(List.of("n3", "n4", "n5"), nodes, "n3");
  }

  @Test
  void aSuspectMemberStaysUntilItIsDown() {
    assertStays(List.of("n1", "n2", "n3"),
        nodes("n1", NodeState.SUSPECT, "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.UP), "n2");
  }

  @Test
  void aMemberIsNeverRemovedWithoutAReplacement() {
    assertStays(List.of("n1", "n2", "n3"),
        nodes("n1", NodeState.DOWN, "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.DECOMMISSIONING), "n2");
  }

  @Test
  void aSmallGroupGrowsToThreeAsNodesJoin() {
    List<NodeView> nodes = nodes("n1", NodeState.UP, "n2", NodeState.UP, "n3", NodeState.UP);
    assertEquals(List.of(new Step.AddReplica("n2")), steps(PdPlacement.next(List.of("n1"), nodes, "n1", Set.of())));
    assertEquals(List.of(new Step.AddReplica("n3")), steps(PdPlacement.next(List.of("n1", "n2"), nodes, "n1", Set.of())));
    assertStays(List.of("n1", "n2", "n3"), nodes, "n1");
    assertStays(List.of("n1"), nodes("n1", NodeState.UP), "n1");
  }

  @Test
  void aMoveStoppedBetweenItsStepsIsFinished() {
    assertEquals(List.of(new Step.RemoveReplica("n1")), steps(PdPlacement.next(List.of("n1", "n2", "n3", "n4"),
        nodes("n1", NodeState.DECOMMISSIONING, "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.UP), "n2", Set.of())));
  }

  @Test
  void aMemberTheClusterNoLongerListsCountsAsRemoved() {
    assertEquals(List.of(new Step.AddReplica("n4"), new Step.RemoveReplica("n9")), steps(PdPlacement.next(
        List.of("n9", "n2", "n3"), nodes("n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.UP), "n2", Set.of())));
  }

  @Test
  void theLeaderIsRemovedAfterTheOtherLeavingMembers() {
    List<NodeView> nodes = nodes("n1", NodeState.DECOMMISSIONING, "n2", NodeState.DOWN, "n3", NodeState.UP,
        "n4", NodeState.UP, "n5", NodeState.UP);
    assertEquals(List.of(new Step.AddReplica("n4"), new Step.RemoveReplica("n2")),
        steps(PdPlacement.next(List.of("n1", "n2", "n3"), nodes, "n1", Set.of())));
    assertEquals(List.of(new Step.AddReplica("n5"), new Step.RemoveReplica("n2")),
        steps(PdPlacement.next(List.of("n1", "n2", "n3", "n4"), nodes, "n1", Set.of())));
    assertEquals(List.of(new Step.RemoveReplica("n1")),
        steps(PdPlacement.next(List.of("n1", "n3", "n4", "n5"), nodes, "n1", Set.of())));
  }

  @Test
  void aGroupOfFourWithNobodyLeavingShrinksByAMemberThatDoesNotLead() {
    List<NodeView> nodes = nodes("n1", NodeState.UP, "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.UP);
    assertEquals(List.of(new Step.RemoveReplica("n4")),
        steps(PdPlacement.next(List.of("n1", "n2", "n3", "n4"), nodes, "n1", Set.of())));
    assertEquals(List.of(new Step.RemoveReplica("n3")),
        steps(PdPlacement.next(List.of("n1", "n2", "n3", "n4"), nodes, "n4", Set.of())));
  }

  @Test
  void aMemberThatLostItsCopyIsReplaced() {
    List<NodeView> nodes = nodes("n1", NodeState.UP, "n2", NodeState.UP, "n3", NodeState.UP, "n4", NodeState.UP);
    Optional<Operator> op = PdPlacement.next(List.of("n1", "n2", "n3"), nodes, "n1", Set.of("n3"));
    assertEquals(List.of(new Step.AddReplica("n4"), new Step.RemoveReplica("n3")), steps(op));
    assertTrue(op.get().reason().contains("n3 holds no copy"), op.get().reason());
  }
}
