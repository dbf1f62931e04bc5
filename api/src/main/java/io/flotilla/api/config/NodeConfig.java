package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.flotilla.api.service.RangeMetrics;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.util.ArrayList;
import java.util.List;

/** The {@code flotilla:} section of a node's configuration. */
public class NodeConfig {
  /** This node's id; must be one of {@link #peers}. */
  @NotEmpty @JsonProperty public String id;

  /** Directory holding this node's RocksDB ({@code db/}) and Raft logs ({@code raft/}). */
  @NotEmpty @JsonProperty public String dataDir;

  /**
   * Every member of the cluster, this node included. A node that joins a running cluster
   * (see {@link #join}) lists only itself: it learns the others from the cluster.
   */
  @NotEmpty @Valid @JsonProperty public List<PeerConfig> peers = new ArrayList<>();

  /**
   * Base URL of any member of a running cluster this node joins on its first start, instead of
   * creating a cluster of its own. Ignored once the node has joined (it remembers the members).
   */
  @JsonProperty public String join;

  /**
   * Deliberate bugs, for tests that prove the checkers catch them: the chaos harness's
   * ({@code strong-reads-from-local-replica}, {@code ack-writes-before-commit}) and consistency
   * checks' ({@code corrupt-local-replica-for-tests}: {@code PUT /internal/v1/test/corrupt/{key}}
   * writes past the Raft log). Never set in production: they break linearizability, durability
   * and replica agreement on purpose.
   */
  @NotNull @JsonProperty public List<String> failpoints = new ArrayList<>();

  /**
   * Serves {@code PUT /internal/v1/clock} so the chaos harness can skew this node's wall clock.
   * Test-only: off unless a chaos run turns it on.
   */
  @JsonProperty public boolean clockSkewForTests;

  /** Keys at which a new cluster's key space is cut into its first ranges. */
  @NotNull @JsonProperty public List<String> initialSplits = new ArrayList<>(List.of("g", "n", "t"));

  @Min(1) @JsonProperty public int replication = 3;

  /**
   * Whether puts and deletes received for a range led elsewhere go to the leader's node, to be
   * batched there with the range's other writes (docs/design-notes.md, "Routing and
   * forwarding"). A node always serves writes its peers forward, whatever this says.
   */
  @JsonProperty public boolean forwardWrites = true;

  /**
   * Whether a node hands the writes it proposes to ranges it leads to its own Raft server
   * in-process, rather than through the range's Raft client over loopback gRPC
   * (docs/design-notes.md, "Log entries and apply").
   */
  @JsonProperty public boolean proposeInProcess = true;

  /**
   * When the node stops (SIGTERM), how long it may spend handing the leaderships it holds (its
   * awake ranges', the placement driver's) to other replicas first, so that they serve on
   * without waiting out an election. 0s: stop at once, as after a crash.
   */
  @NotNull @JsonProperty public Duration leaderHandoffAtStop = Duration.seconds(5);

  /**
   * A range whose Raft members and descriptor have differed this long, the same way (a replica
   * change stopped between its two steps), is repaired by its leader: members the descriptor
   * does not list leave the group, replicas the group dropped leave the descriptor. Must exceed
   * three times the request timeout (a change checks its new replica for up to twice that
   * between its steps, then records it; a slower one is undone and fails, which is safe: its
   * late record is refused after a repair); 0s turns it off.
   */
  @NotNull @JsonProperty public Duration membershipRepairAfter = Duration.minutes(2);

  /** How long a request may take before it answers 504 (writes: outcome unknown). */
  @NotNull @JsonProperty public Duration requestTimeout = Duration.seconds(10);

  /**
   * A transaction whose record is still pending this long after its coordinator started it is
   * taken as abandoned (its coordinator crashed or lost contact) and may be aborted by anyone.
   */
  @NotNull @JsonProperty public Duration txnAbandonAfter = Duration.seconds(5);

  /**
   * How often each node sweeps the ranges it leads: abandoned transaction intents are resolved
   * and expired keys removed (through the log).
   */
  @NotNull @JsonProperty public Duration sweepInterval = Duration.seconds(2);

  /**
   * How often each node runs a consistency check of one of the ranges it leads (each in turn;
   * ranges asleep are skipped): its replicas' checksums of the range's data as of one log entry
   * must agree. 0s: only when asked ({@code POST /v1/admin/ranges/{id}/check-consistency}).
   */
  @NotNull @JsonProperty public Duration consistencyCheckInterval = Duration.minutes(5);

  @Min(8) @JsonProperty public long blockCacheMb = 64;

  /**
   * What {@code /metrics} shows per range ({@code range} label): {@code all} (replica gauges,
   * call counts, latency histograms; up to 41 series a range), {@code counts} (no histograms,
   * 11 series) or {@code none}. Nodes with hundreds of ranges may want less than all.
   */
  @NotNull @JsonProperty public RangeMetrics.Detail perRangeMetrics = RangeMetrics.Detail.ALL;

  @NotNull @Valid @JsonProperty public LimitsConfig limits = new LimitsConfig();
  /** Tokens and roles (off by default): see {@link AuthConfig}. */
  @NotNull @Valid @JsonProperty public AuthConfig auth = new AuthConfig();
  /** TLS on every port (off by default): see {@link TlsConfig}. */
  @NotNull @Valid @JsonProperty public TlsConfig tls = new TlsConfig();

  @NotNull @Valid @JsonProperty public RaftConfig raft = new RaftConfig();

  @NotNull @Valid @JsonProperty public PlacementSettings placement = new PlacementSettings();

  /**
   * The largest Raft log entry requests can produce: a full batch (its keys and values are
   * bounded by maxBatchBytes, a single put by key + value limits) plus per-op framing. (A
   * cross-range transaction's prepare at its anchor also lists every key of the batch; the
   * coordinator refuses one that would not fit.)
   */
  public int maxEntryBytes() {
    long payload = Math.max(limits.maxBatchBytes, (long) limits.maxKeyBytes + limits.maxValueBytes);
    long framing = 64L * limits.maxBatchOps + 4096;
    return (int) Math.min(Integer.MAX_VALUE - 1024, payload + framing);
  }

  public PeerConfig self() {
    return peers.stream().filter(p -> p.id.equals(id)).findFirst().orElseThrow(() ->
        new IllegalArgumentException("flotilla.id '" + id + "' is not one of flotilla.peers"));
  }
}
