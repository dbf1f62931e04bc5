package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import io.flotilla.raft.RaftSettings;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/** Raft tuning; see {@link RaftSettings} for what each knob drives. */
public class RaftConfig {
  /**
   * Election timeouts. 1-2 s keeps elections stable when a few node JVMs share two busy cores
   * (500 ms-1 s caused election storms there) and still fails over within a few seconds.
   */
  @NotNull @JsonProperty public Duration rpcTimeoutMin = Duration.milliseconds(1000);
  @NotNull @JsonProperty public Duration rpcTimeoutMax = Duration.milliseconds(2000);
  @Min(2) @JsonProperty public long snapshotThreshold = 10_000;
  /**
   * Raft log segment size. Each range keeps its open segment's entries on the heap (and one
   * closed segment more), so this bounds a written range's heap: with 32 MB segments four
   * ranges under put load held 190 MB live of a node's 384 MB heap, and G1 ran back to back.
   */
  @NotNull @JsonProperty public DataSize segmentSize = DataSize.megabytes(8);
  @NotNull @JsonProperty public Duration requestTimeout = Duration.seconds(3);
  @Min(1) @JsonProperty public int clientMaxAttempts = 40;
  /**
   * Strong reads from the leader's lease (lease = 0.9 x rpcTimeoutMin, shorter than any
   * election timeout, so a deposed leader's lease has run out before a successor is elected).
   * Off: every strong read confirms leadership with a heartbeat round (read index).
   */
  @JsonProperty public boolean leaderLease = true;
  /**
   * Raft-port messages handled on gRPC's network threads, not handed to an executor thread
   * first: one thread hand-off fewer per append, vote and forwarded write, about 10 % more puts
   * (docs/BENCHMARKS.md). Off by default: Ratis 3.3 can wait inside an append (and a vote), and
   * a network thread that waits holds up every message it carries; a node starting 100 ranges
   * at once then wedged, its elections never finishing. Off: gRPC's default executor.
   */
  @JsonProperty public boolean rpcOnEventLoop = false;
  /**
   * A range unused this long (no write applied, no request but stale reads served) sleeps: its
   * replicas close their Raft divisions, which cost nothing until its next use opens them again
   * (that use waits for one election round, 0.1-0.4 s on a `bin/flotilla cluster`). A new
   * cluster's ranges start asleep. Zero: ranges never sleep, and every range's group runs from
   * the start (heartbeats, timers and about five threads per replica).
   */
  @NotNull @JsonProperty public Duration hibernateAfter = Duration.seconds(60);

  /** @param maxEntryBytes the largest command the API can produce (see {@link NodeConfig#maxEntryBytes()}) */
  public RaftSettings toSettings(int maxEntryBytes) {
    return new RaftSettings(java.time.Duration.ofMillis(rpcTimeoutMin.toMilliseconds()),
        java.time.Duration.ofMillis(rpcTimeoutMax.toMilliseconds()), snapshotThreshold,
        segmentSize.toBytes(), java.time.Duration.ofMillis(requestTimeout.toMilliseconds()), clientMaxAttempts,
        maxEntryBytes, leaderLease, rpcOnEventLoop, java.time.Duration.ofMillis(hibernateAfter.toMilliseconds()));
  }
}
