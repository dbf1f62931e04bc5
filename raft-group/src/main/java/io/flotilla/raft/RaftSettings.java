package io.flotilla.raft;

import java.time.Duration;

/**
 * Raft tuning of a node. Elections and leases scale with {@code rpcTimeoutMin/Max}: a
 * follower starts an election after a random timeout in [min, max], the leader heartbeats about
 * every min/2, and a leader lease lasts {@code rpcTimeoutMin * 0.9}.
 *
 * @param snapshotThreshold applied entries between snapshots (a snapshot lets the log be purged)
 * @param segmentSizeBytes Raft log segment size; also the largest single log entry
 * @param requestTimeout how long a client waits for one attempt at the leader
 * @param clientMaxAttempts attempts per request before the outcome is reported unknown
 */
public record RaftSettings(
    Duration rpcTimeoutMin,
    Duration rpcTimeoutMax,
    long snapshotThreshold,
    long segmentSizeBytes,
    Duration requestTimeout,
    int clientMaxAttempts) {

  public static RaftSettings defaults() {
    return new RaftSettings(Duration.ofMillis(500), Duration.ofMillis(1000), 10_000,
        32L * 1024 * 1024, Duration.ofSeconds(3), 25);
  }
}
