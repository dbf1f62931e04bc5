package io.flotilla.raft;

import java.io.File;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import io.flotilla.common.NodeTls;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/** Builds Ratis properties for a node's server and its range clients from {@link RaftSettings}. */
public final class RaftTuning {
  private RaftTuning() {}

  public static RaftProperties server(RaftSettings s, File storageDir, String host, int port) {
    RaftProperties p = client(s);
    RaftServerConfigKeys.setStorageDir(p, List.of(storageDir));
    GrpcConfigKeys.Server.setHost(p, host);
    GrpcConfigKeys.Server.setPort(p, port);
    GrpcConfigKeys.Admin.setHost(p, host);
    GrpcConfigKeys.Client.setHost(p, host);

    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(s.rpcTimeoutMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(s.rpcTimeoutMax().toMillis()));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, millis(s.rpcTimeoutMin().toMillis()));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, millis(s.rpcTimeoutMax().toMillis()));

    // Reads: read index for linearizable reads (and follower reads), served from the lease while valid.
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, s.leaderLease());

    // Snapshots only record the applied index (data lives in the shared RocksDB); a replica too
    // far behind is told to fetch the range span itself instead of receiving Ratis snapshot files.
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, false);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, s.snapshotThreshold());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.max(1, Math.min(Integer.MAX_VALUE, s.snapshotThreshold() / 2)));

    // Many groups share one JVM: keep per-group buffers small.
    SizeInBytes segment = SizeInBytes.valueOf(s.segmentSizeBytes());
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, segment);
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf("1MB"));
    // The appender's byte limit is also the largest log entry; the per-group direct write
    // buffer must hold one entry plus its length and checksum.
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(s.maxEntryBytes()));
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(s.maxEntryBytes() + 64L));
    // The log cache keeps entries on the heap for the appenders; Ratis's default bound is 200 MB
    // per group, more than a node's heap. Two segments' worth per range.
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, SizeInBytes.valueOf(2 * s.segmentSizeBytes()));
    // No commit-metadata entries: Ratis otherwise appends one after each commit advance and
    // replicates it like any entry (a second append round and fsync per write). Every state
    // machine here knows where it stands without it: a range records its applied index with
    // its data, and the placement driver replays its log once a leader tells it the commit.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    // Ratis bounds each group's pending client requests at 4,096 entries and 64 MB; over many
    // groups that bounds nothing a node could hold. Each range here has one batch of writes
    // under way from its leader's node (the node-wide write queues bound the rest), so a few
    // entries' worth per group is room enough; past it Ratis refuses at once, and the write
    // fails as overloaded with nothing applied. The log worker's queue (raft.server.log.queue.*,
    // also 4,096 and 64 MB) keeps Ratis's bounds: a full one blocks the thread appending to it,
    // which on a follower is the network thread that took the append (raft.rpcOnEventLoop),
    // shared by every group, so a lower bound would stall heartbeats of all ranges.
    RaftServerConfigKeys.Write.setElementLimit(p, QUEUE_ENTRIES);
    RaftServerConfigKeys.Write.setByteLimit(p, queueBytes(s));
    RaftServerConfigKeys.ThreadPool.setProxySize(p, 8);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(s.maxEntryBytes() + (1L << 20)));
    return p;
  }

  /** Entries a group's pending client requests may hold. */
  static final int QUEUE_ENTRIES = 1024;

  /** Bytes a group's pending client requests may hold: 16 MiB, or two of the largest entries if more. */
  static SizeInBytes queueBytes(RaftSettings s) {
    return SizeInBytes.valueOf(Math.max(16L << 20, 2L * s.maxEntryBytes() + (1L << 20)));
  }

  public static RaftProperties client(RaftSettings s) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(s.requestTimeout().toMillis()));
    RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, 2000);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(Math.max(8L << 20, 2L * s.maxEntryBytes())));
    return p;
  }

  /**
   * Bounded, backed-off retries: NotLeader and elections are retried, never forever. The
   * backoff stays short (at most 300 ms) so a write lands soon after a new leader is elected.
   */
  public static RetryPolicy retryPolicy(RaftSettings s) {
    return ExponentialBackoffRetry.newBuilder()
        .setBaseSleepTime(millis(25))
        .setMaxSleepTime(millis(300))
        .setMaxAttempts(s.clientMaxAttempts())
        .build();
  }

  /**
   * The Ratis parameters of a node's server and clients: mutual TLS with the node's identity
   * when {@code tls} is given (every peer, log appender and client of the Raft port presents a
   * certificate the cluster's CA signed), else none (plaintext).
   */
  public static Parameters parameters(NodeTls tls) {
    Parameters p = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig(tls.keyManager(), tls.trustManager(), true));
    }
    return p;
  }

  private static TimeDuration millis(long ms) {
    return TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS);
  }
}
