package io.flotilla.bench;

import io.flotilla.pd.PlacementConfig;
import io.flotilla.pd.Simulation;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the placement driver's planner against a simulated cluster (no Ratis, no network) and
 * prints how long it took to converge and what each decision cost.
 */
@Command(name = "pd-sim", mixinStandardHelpOptions = true,
    description = "Placement decisions against a simulated cluster: rounds to converge and decision costs.")
public final class PlacementSimMain implements Callable<Integer> {
  @Option(names = "--nodes", defaultValue = "1000")
  int nodes;

  @Option(names = "--ranges", defaultValue = "100000")
  int ranges;

  @Option(names = "--new-nodes", defaultValue = "100", description = "nodes that start empty")
  int newNodes;

  @Option(names = "--down-nodes", defaultValue = "20", description = "nodes that are down from the start")
  int downNodes;

  @Option(names = "--seed", defaultValue = "42")
  long seed;

  @Option(names = "--snapshots-per-node", defaultValue = "2")
  int snapshotsPerNode;

  @Option(names = "--max-operators", defaultValue = "2000", description = "operators in flight in the cluster")
  int maxOperators;

  @Option(names = "--max-rounds", defaultValue = "5000")
  int maxRounds;

  public static void main(String[] args) {
    System.exit(new CommandLine(new PlacementSimMain()).execute(args));
  }

  @Override
  public Integer call() {
    PlacementConfig config = PlacementConfig.defaults(3).withLimits(snapshotsPerNode, maxOperators, maxOperators / 2);
    long t0 = System.nanoTime();
    Simulation.Result r = new Simulation(nodes, ranges, newNodes, downNodes, seed, config).run(maxRounds);
    double wall = (System.nanoTime() - t0) / 1e9;
    System.out.printf("%-36s %s%n", "cluster", nodes + " nodes (" + newNodes + " new, " + downNodes + " down), "
        + ranges + " ranges x 3 replicas, seed " + seed);
    System.out.printf("%-36s %s%n", "converged", r.converged() + " after " + r.rounds() + " rounds");
    System.out.printf("%-36s %d%n", "operators", r.operators());
    System.out.printf("%-36s %.1f ms avg, %.1f ms max%n", "plan() per round (whole cluster)",
        r.planNanosTotal() / 1e6 / r.rounds(), r.planNanosMax() / 1e6);
    System.out.printf("%-36s %.1f us%n", "decision per range heartbeat", r.rangeCheckNanosAvg() / 1e3);
    System.out.printf("%-36s %d%n", "replica spread (max-min, up nodes)", r.replicaSpread());
    System.out.printf("%-36s %d%n", "leader spread (max-min, up nodes)", r.leaderSpread());
    System.out.printf("%-36s %d%n", "ranges not whole (repairable)", r.rangesNotWhole());
    System.out.printf("%-36s %d%n", "ranges without quorum (lost 2 of 3)", r.rangesWithoutQuorum());
    System.out.printf("%-36s %.1f s%n", "wall time", wall);
    return r.converged() && r.rangesNotWhole() == 0 ? 0 : 1;
  }
}
