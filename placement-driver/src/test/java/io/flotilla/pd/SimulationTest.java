package io.flotilla.pd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The planner against a simulated cluster (the 1,000-node, 100,000-range run is a benchmark:
 * {@code bin/flotilla pd-sim}). Here 100 nodes and 10,000 ranges, 5 nodes down and 10 new.
 */
class SimulationTest {
  @Test
  void aClusterWithDownAndNewNodesConvergesToWholeBalancedRanges() {
    long seed = 42;
    PlacementConfig config = PlacementConfig.defaults(3).withLimits(2, 400, 200);
    Simulation.Result r = new Simulation(100, 10_000, 10, 5, seed, config).run(2_000);
    System.out.println("SimulationTest seed " + seed + ": " + r);
    assertTrue(r.converged(), "the planner stopped finding work: " + r);
    assertEquals(0, r.rangesNotWhole(), "every range that kept a quorum has 3 replicas on up nodes and an up leader: " + r);
    assertTrue(r.rangesWithoutQuorum() < 100, "only ranges with two replicas on the 5 down nodes lost their quorum: " + r);
    assertTrue(r.replicaSpread() <= config.replicaTolerance() + 1, "replicas even out: " + r);
    assertTrue(r.leaderSpread() <= 3, "leaders even out: " + r);
  }

  @Test
  void theSameSeedMakesTheSameRun() {
    PlacementConfig config = PlacementConfig.defaults(3).withLimits(2, 100, 50);
    Simulation.Result a = new Simulation(20, 500, 3, 2, 7, config).run(1_000);
    Simulation.Result b = new Simulation(20, 500, 3, 2, 7, config).run(1_000);
    assertEquals(a.rounds(), b.rounds());
    assertEquals(a.operators(), b.operators());
    assertEquals(a.replicaSpread(), b.replicaSpread());
  }
}
