package io.flotilla.pd;

/**
 * The placement driver's knobs.
 *
 * @param replication replicas per range
 * @param maxSnapshotsPerNode operators copying a replica to one node at the same time
 * @param maxOperators operators running in the whole cluster at the same time
 * @param maxBalancePerRound operators the balancers start in one planning round
 * @param splitBytes a range larger than this splits
 * @param splitKeys a range with more keys than this splits
 * @param splitWritesPerSecond a range written more often than this splits (a hot range)
 * @param mergeBytes ranges smaller than this (both, and cold) merge with their neighbour
 * @param mergeWritesPerSecond a range written more often than this is not cold
 * @param replicaTolerance balance replicas while the fullest and emptiest up nodes differ by more
 */
public record PlacementConfig(int replication, int maxSnapshotsPerNode, int maxOperators, int maxBalancePerRound,
    long splitBytes, long splitKeys, double splitWritesPerSecond, long mergeBytes, double mergeWritesPerSecond,
    int replicaTolerance) {
  public static PlacementConfig defaults(int replication) {
    return new PlacementConfig(replication, 2, 64, 16, 96L << 20, 1_000_000, 2_000, 8L << 20, 10, 1);
  }

  public PlacementConfig withLimits(int snapshotsPerNode, int operators, int balancePerRound) {
    return new PlacementConfig(replication, snapshotsPerNode, operators, balancePerRound, splitBytes, splitKeys,
        splitWritesPerSecond, mergeBytes, mergeWritesPerSecond, replicaTolerance);
  }

  public PlacementConfig withSplitAndMerge(long splitAtBytes, long splitAtKeys, long mergeBelowBytes) {
    return new PlacementConfig(replication, maxSnapshotsPerNode, maxOperators, maxBalancePerRound, splitAtBytes,
        splitAtKeys, splitWritesPerSecond, mergeBelowBytes, mergeWritesPerSecond, replicaTolerance);
  }
}
