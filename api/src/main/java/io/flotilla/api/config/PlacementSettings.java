package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import io.flotilla.pd.PlacementConfig;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/** The {@code flotilla.placement:} section: the placement driver's schedule and limits. */
public class PlacementSettings {
  /** Whether the placement driver repairs, balances, splits and merges on its own. */
  @JsonProperty public boolean enabled = true;

  /** How often nodes heartbeat and the placement driver plans. */
  @NotNull @JsonProperty public Duration interval = Duration.seconds(1);

  /** A node silent this long is down: its replicas are re-created elsewhere. */
  @NotNull @JsonProperty public Duration nodeDownAfter = Duration.seconds(30);

  /** How long one operator may run before it is given up (and planned again). */
  @NotNull @JsonProperty public Duration operatorTimeout = Duration.minutes(10);

  /**
   * A range frozen for a merge this long, with no operator of the placement driver on it, was
   * left by a merge that never finished (its coordinator died, or could not thaw it): the merge
   * is called off and the range thawed. A merge's own wait for its freeze is half a request
   * timeout, so this must be longer than the request timeout; 0 turns it off.
   */
  @NotNull @JsonProperty public Duration abandonedMergeAfter = Duration.seconds(60);

  @Min(1) @JsonProperty public int maxSnapshotsPerNode = 2;

  @Min(1) @JsonProperty public int maxOperators = 16;

  /** A range larger than this splits at its middle key. */
  @NotNull @JsonProperty public DataSize splitSize = DataSize.mebibytes(96);

  /** A range written more often than this per second splits (a hot range). */
  @Min(1) @JsonProperty public double splitWritesPerSecond = 2000;

  /**
   * Neighbouring ranges both smaller than this (and cold) merge; 0 turns automatic merges off,
   * the default, so the ranges an operator cut at bootstrap stay as they are.
   */
  @NotNull @JsonProperty public DataSize mergeSize = DataSize.bytes(0);

  public PlacementConfig toConfig(int replication) {
    PlacementConfig d = PlacementConfig.defaults(replication);
    return new PlacementConfig(replication, maxSnapshotsPerNode, maxOperators, Math.max(1, maxOperators / 2),
        splitSize.toBytes(), d.splitKeys(), splitWritesPerSecond, mergeSize.toBytes(), d.mergeWritesPerSecond(),
        d.replicaTolerance());
  }
}
