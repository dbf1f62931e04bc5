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
 * @param maxEntryBytes the largest command the log accepts; every range group allocates a
 *     direct write buffer of about this size, so it bounds memory per range
 * @param leaderLease serve strong reads from the leader's lease while it is valid (else every
 *     strong read confirms leadership with a heartbeat round: a read index)
 * @param rpcOnEventLoop handle the messages arriving on the Raft port (appends, votes, forwarded
 *     writes, other nodes' range clients' requests) on gRPC's network threads, instead of
 *     handing each to an executor thread first; the handlers there queue work or return
 *     futures, and wait at most for a range to take a request in (docs/design-notes.md)
 * @param hibernateAfter how long a range must go unused before its replicas close their Raft
 *     divisions until its next use ({@link Hibernation}); zero: ranges never sleep
 */
public record RaftSettings(
    Duration rpcTimeoutMin,
    Duration rpcTimeoutMax,
    long snapshotThreshold,
    long segmentSizeBytes,
    Duration requestTimeout,
    int clientMaxAttempts,
    int maxEntryBytes,
    boolean leaderLease,
    boolean rpcOnEventLoop,
    Duration hibernateAfter) {
}
