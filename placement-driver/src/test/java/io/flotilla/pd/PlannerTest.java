package io.flotilla.pd;

import static io.flotilla.pd.ClusterDsl.cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PlannerTest {
  @Test
  void repairsComeBeforeBalancingAndEachRangeGetsOneOperator() {
    ClusterDsl c = cluster().up("n1", "n2", "n4", "n5").down("n3");
    for (long id = 1; id <= 4; id++) {
      c.range(id, "n1", "n2", "n3");
    }
    List<Operator> ops = new Planner(PlacementConfig.defaults(3)).plan(c.view(), List.of());
    assertEquals(Operator.Priority.REPAIR, ops.get(0).priority());
    assertEquals(ops.size(), ops.stream().map(Operator::rangeId).distinct().count(), ops::toString);
    assertEquals(4, ops.stream().filter(op -> op.kind().equals("replace-down-replica")).count(), ops::toString);
  }

  @Test
  void aNodeReceivesNoMoreCopiesAtOnceThanItsSnapshotLimit() {
    ClusterDsl c = cluster().up("n1", "n2", "n4").down("n3");
    for (long id = 1; id <= 10; id++) {
      c.range(id, "n1", "n2", "n3");
    }
    List<Operator> ops = new Planner(PlacementConfig.defaults(3).withLimits(2, 64, 16)).plan(c.view(), List.of());
    assertEquals(2, ops.stream().filter(op -> op.kind().equals("replace-down-replica")).count(),
        "only n4 can take the copies, two at a time: " + ops);
    assertTrue(ops.stream().allMatch(op -> op.targets().isEmpty() || op.targets().equals(List.of("n4"))), ops::toString);
  }

  @Test
  void runningOperatorsKeepTheirRangeBusyAndCountAgainstTheLimits() {
    ClusterDsl c = cluster().up("n1", "n2", "n4").down("n3");
    for (long id = 1; id <= 3; id++) {
      c.range(id, "n1", "n2", "n3");
    }
    Operator running = new Operator(1, "replace-down-replica", Operator.Priority.REPAIR,
        List.of(new Step.AddReplica("n4"), new Step.RemoveReplica("n3")), "test");
    List<Operator> ops = new Planner(PlacementConfig.defaults(3).withLimits(2, 64, 16)).plan(c.view(), List.of(running));
    assertTrue(ops.stream().noneMatch(op -> op.rangeId() == 1), ops::toString);
    assertEquals(1, ops.stream().filter(op -> !op.targets().isEmpty()).count(),
        "the running operator holds one of n4's two snapshot slots: " + ops);
  }

  @Test
  void aStoppingNodeGetsNoNewWorkUntilItHeartbeatsAgainAndIsDownAfterTheUsualSilence() {
    MutableClock clock = new MutableClock();
    HeartbeatTracker tracker = tracker(clock);
    tracker.heartbeat("n1");
    tracker.stopping("n1");
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "stopping: no new replicas or leaders");
    assertTrue(tracker.isStopping("n1"));
    assertFalse(tracker.isStopping("n2"));
    tracker.heartbeat("n1"); // an ordinary heartbeat sent before the last one, delivered after it
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "still stopping");
    assertEquals(NodeState.DECOMMISSIONING, tracker.state("n1", NodeState.DECOMMISSIONING));
    clock.advance(Duration.ofSeconds(9));
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "not repaired sooner than any silent node");
    clock.advance(Duration.ofSeconds(2));
    assertEquals(NodeState.DOWN, tracker.state("n1", NodeState.UP));
    tracker.heartbeat("n1"); // back after a restart
    assertFalse(tracker.isStopping("n1"));
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "back, but settling first");
    clock.advance(Duration.ofSeconds(2));
    tracker.heartbeat("n1");
    clock.advance(Duration.ofSeconds(2));
    tracker.heartbeat("n1");
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "4 s back");
    clock.advance(Duration.ofSeconds(1));
    assertEquals(NodeState.UP, tracker.state("n1", NodeState.UP), "settled");
  }

  @Test
  void nodesSilentOnlyBecauseThisTrackerHeardNoOneDoNotSettle() {
    MutableClock clock = new MutableClock();
    HeartbeatTracker tracker = tracker(clock);
    tracker.heartbeat("n1");
    tracker.heartbeat("n2");
    tracker.heartbeat("n3"); // and then n3 goes away
    everySecond(clock, 8, () -> tracker.heartbeat("n0")); // this member was cut off: it heard only its own node
    tracker.heartbeat("n1");
    tracker.heartbeat("n2");
    assertEquals(NodeState.UP, tracker.state("n1", NodeState.UP));
    assertEquals(NodeState.UP, tracker.state("n2", NodeState.UP));
    everySecond(clock, 4, () -> tracker.heartbeat("n1")); // n2 restarts while n1 heartbeats as usual
    tracker.heartbeat("n2");
    assertEquals(NodeState.SUSPECT, tracker.state("n2", NodeState.UP), "n2 was away while others were heard");
    assertEquals(NodeState.UP, tracker.state("n1", NodeState.UP));
    tracker.heartbeat("n3");
    assertEquals(NodeState.SUSPECT, tracker.state("n3", NodeState.UP), "silent for 4 s more than the tracker was cut off");
  }

  @Test
  void aNodeBackFromAQuickRestartSettlesBeforeItGetsNewWork() {
    MutableClock clock = new MutableClock();
    HeartbeatTracker tracker = tracker(clock);
    tracker.heartbeat("n1");
    tracker.heartbeat("n2");
    clock.advance(Duration.ofSeconds(1));
    tracker.stopping("n1");
    clock.advance(Duration.ofSeconds(2));
    tracker.heartbeat("n1"); // restarted within the stopping hold: still stopping
    tracker.heartbeat("n2");
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP));
    clock.advance(Duration.ofSeconds(2));
    tracker.heartbeat("n1"); // past the hold: up again, settling from now
    tracker.heartbeat("n2");
    assertFalse(tracker.isStopping("n1"));
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "settling");
    assertEquals(NodeState.UP, tracker.state("n2", NodeState.UP), "a node that never left does not settle");
    assertEquals(NodeState.DECOMMISSIONING, tracker.state("n1", NodeState.DECOMMISSIONING));
    clock.advance(Duration.ofSeconds(3));
    tracker.heartbeat("n1");
    tracker.heartbeat("n3"); // first heard now: new, or up before this tracker started
    assertEquals(NodeState.UP, tracker.state("n3", NodeState.UP));
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP));
    clock.advance(Duration.ofSeconds(2));
    tracker.heartbeat("n1");
    assertEquals(NodeState.UP, tracker.state("n1", NodeState.UP));
  }

  @Test
  void aNodeSilentForLongerThanTheDownTimeIsDown() {
    MutableClock clock = new MutableClock();
    HeartbeatTracker tracker = tracker(clock);
    clock.advance(Duration.ofSeconds(2));
    assertEquals(NodeState.UP, tracker.state("n1", NodeState.UP), "never heard of yet: counted from the start");
    clock.advance(Duration.ofSeconds(7));
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "silent a while: no new work, not down");
    tracker.heartbeat("n1");
    clock.advance(Duration.ofSeconds(5));
    assertEquals(NodeState.DOWN, tracker.state("n2", NodeState.UP));
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP));
    tracker.heartbeat("n1");
    everySecond(clock, 5, () -> tracker.heartbeat("n5")); // others are heard meanwhile
    assertEquals(NodeState.DECOMMISSIONING, tracker.state("n1", NodeState.DECOMMISSIONING));
    everySecond(clock, 6, () -> tracker.heartbeat("n5"));
    assertEquals(NodeState.DOWN, tracker.state("n1", NodeState.UP));
    tracker.heartbeat("n1");
    assertEquals(NodeState.SUSPECT, tracker.state("n1", NodeState.UP), "back: settling first");
    everySecond(clock, 5, () -> tracker.heartbeat("n1"));
    assertEquals(NodeState.UP, tracker.state("n1", NodeState.UP));
  }

  @Test
  void aSuspectNodeKeepsItsReplicasButGetsNoLeadersOrCopies() {
    ClusterDsl c = cluster().up("n1", "n2").nodes(NodeState.SUSPECT, "n3", "n4");
    for (long id = 1; id <= 4; id++) {
      c.range(id, "n1", "n2", "n3");
    }
    List<Operator> ops = new Planner(PlacementConfig.defaults(3)).plan(c.view(), List.of());
    assertTrue(ops.stream().allMatch(op -> op.kind().equals("balance-leaders")), ops::toString);
    assertTrue(ops.stream().allMatch(op -> op.steps().equals(List.of(new Step.TransferLeader("n2")))), ops::toString);
  }

  @Test
  void aRangeWhoseLeadershipMovedLatelyKeepsItAndAnotherOneMovesInstead() {
    ClusterDsl c = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n1", "n2", "n3")
        .range(3, "n1", "n2", "n3");
    Planner planner = new Planner(PlacementConfig.defaults(3).withLimits(2, 64, 1)
        .withSplitAndMerge(96L << 20, 1_000_000, 0));
    // n1 leads all three: one leadership moves per round, range 1's first ...
    List<Operator> ops = planner.plan(c.view(), List.of());
    assertEquals(List.of(1L), ops.stream().map(Operator::rangeId).toList(), ops::toString);
    // ... but not when it moved a moment ago: another range's instead.
    ops = planner.plan(c.view(), List.of(), Set.of(1L));
    assertEquals(1, ops.size(), ops::toString);
    assertEquals("balance-leaders", ops.get(0).kind());
    assertTrue(ops.get(0).rangeId() != 1, ops::toString);
    assertEquals(List.of(), planner.plan(c.view(), List.of(), Set.of(1L, 2L, 3L)), "all three resting");
  }

  @Test
  void splitsAndMergesComeAfterRepairs() {
    ClusterDsl c = cluster().up("n1", "n2", "n3").range(1, "n1", "n2", "n3").range(2, "n1", "n2", "n3")
        .range(3, "n1", "n2", "n3").load(1, 200L << 20, 10, 0).load(2, 10, 1, 0).load(3, 10, 1, 0);
    Map<String, Long> kinds = new Planner(PlacementConfig.defaults(3)).plan(c.view(), List.of()).stream()
        .collect(Collectors.groupingBy(Operator::kind, Collectors.counting()));
    // n1 leads all three, but every range is busy splitting or merging: no leader moves yet.
    assertEquals(Map.of("split", 1L, "merge", 1L), kinds);
  }

  /** A tracker on node n0: suspect after 3 s of silence, down after 10 s, settling for 5 s. */
  private static HeartbeatTracker tracker(Clock clock) {
    return new HeartbeatTracker(clock, "n0", Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(5));
  }

  /** {@code seconds} times: a second passes, then {@code beat} runs. */
  private static void everySecond(MutableClock clock, int seconds, Runnable beat) {
    for (int i = 0; i < seconds; i++) {
      clock.advance(Duration.ofSeconds(1));
      beat.run();
    }
  }

  static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
