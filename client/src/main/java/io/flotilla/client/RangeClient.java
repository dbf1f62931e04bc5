package io.flotilla.client;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The long-lived Ratis client of one range group.
 *
 * <p>Writes go through Ratis's ordered async path, so retries of one write keep its call id and
 * the leader's retry cache deduplicates them. Reads use the unordered path: a slow read never
 * holds up writes. When retries run out the underlying client has failed its whole sliding
 * window, so it is replaced by a fresh one; the failed writes are reported as outcome unknown.
 */
public final class RangeClient implements AutoCloseable {
  /** Attempts per read; with the backoff (25 ms doubling to 1 s) about 12 s in all. */
  private static final int READ_ATTEMPTS = 16;
  /** Attempts of a write the leader refused unapplied (stepping down); about 3 s in all. */
  private static final int REFUSED_WRITE_ATTEMPTS = 10;
  private final long rangeId;
  private final RaftProperties properties;
  private final RetryPolicy retryPolicy;
  private volatile RaftGroup group;
  private volatile RaftClient client;
  /** Whether any call reached a peer hosting the group (the client then knows where the leader is). */
  private volatile boolean leaderFound;
  private final Object sendLock = new Object();
  /** This client's identity as a writer, whatever Raft client it sends through (see {@link #stamp}). */
  private final com.google.protobuf.ByteString writer = newWriterId();
  /** The number of the last write sent (guarded by sendLock). */
  private long writeSeq;

  private final org.apache.ratis.conf.Parameters parameters;

  /** A client that contacts {@code leader} first (the range's leader as far as the caller knows; null if unknown). */
  public RangeClient(long rangeId, RaftGroup group, RaftProperties properties, RetryPolicy retryPolicy, String leader) {
    this(rangeId, group, properties, null, retryPolicy, leader);
  }

  /** @param parameters the Ratis client's parameters (its TLS), or null for none */
  public RangeClient(long rangeId, RaftGroup group, RaftProperties properties,
      org.apache.ratis.conf.Parameters parameters, RetryPolicy retryPolicy, String leader) {
    this.parameters = parameters;
    this.rangeId = rangeId;
    this.group = group;
    this.properties = properties;
    this.retryPolicy = retryPolicy;
    RaftPeerId first = leader == null ? null : RaftPeerId.valueOf(leader);
    this.client = newClient(group.getPeers().stream().anyMatch(p -> p.getId().equals(first)) ? first : null);
  }

  /** A client that contacts {@code firstTarget} first (else the group's first peer). */
  private RaftClient newClient(RaftPeerId firstTarget) {
    RaftClient.Builder b = RaftClient.newBuilder().setRaftGroup(group).setProperties(properties)
        .setRetryPolicy(retryPolicy).setClientId(ClientId.randomId());
    if (parameters != null) {
      b.setParameters(parameters);
    }
    if (firstTarget != null) {
      b.setLeaderId(firstTarget);
    }
    return b.build();
  }

  /**
   * Proposes a command; completes with the leader's apply result.
   *
   * <p>Completes on {@link Completions}, never on the Ratis thread that received the reply: Ratis
   * completes ordered replies while holding its sliding window's lock, so a caller that chains
   * another write (to a different range) onto the result would otherwise hold one client's lock
   * while taking another's, and two such chains in opposite directions deadlock.
   */
  public CompletableFuture<CommandResult> write(Command command) {
    if (!leaderFound) {
      // A new client contacts the group's first peer, which may not host the group yet (a range
      // just created by a split) or at all (a replica that missed the split): Ratis fails a write
      // there for good and cannot tell whether an earlier attempt applied it elsewhere. Finding
      // the leader with a read first, which is safe to retry on another peer, avoids that.
      return read(Query.newBuilder().setRangeId(rangeId).setMultiGet(io.flotilla.proto.MultiGetQuery.getDefaultInstance())
              .build())
          .handle((r, e) -> Completions.unwrap(e) instanceof RangeNotHostedException gone ? gone : null)
          .thenCompose(gone -> gone != null ? CompletableFuture.<CommandResult>failedFuture(gone)
              : write(command.toByteArray(), 0));
    }
    return write(command.toByteArray(), 0);
  }

  /** Sends a command; the first attempt stamps it with this client's writer id and next write number. */
  private CompletableFuture<CommandResult> write(byte[] command, int attempt) {
    RaftClient c;
    CompletableFuture<RaftClientReply> sent;
    byte[] stamped;
    synchronized (sendLock) {
      // One send at a time: writes reach the log in the order of their numbers (and Ratis takes
      // the call id and then the sequence number), so the range does not take a lower number
      // that arrives late for a copy of a request it applied already (see AppliedCalls).
      c = client;
      stamped = attempt == 0 ? stamp(command, writer, ++writeSeq) : command;
      sent = c.async().send(message(stamped));
    }
    CompletableFuture<CommandResult> result = new CompletableFuture<>();
    sent.whenCompleteAsync((reply, error) -> {
      Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
      if (failure == null) {
        leaderFound = true;
        try {
          result.complete(parseCommandResult(reply));
        } catch (RuntimeException e) {
          result.completeExceptionally(e);
        }
        return;
      }
      if (refusedBeforeAppend(failure) && attempt + 1 < REFUSED_WRITE_ATTEMPTS) {
        // The leader is handing leadership over and refused the call. Not necessarily before
        // appending it: Ratis checks "stepping down" before its retry cache, so a copy its
        // client sent again after a timeout gets this answer too, with the first copy in the
        // log. The command goes again, a new Raft call with the same writer and number, which
        // the range takes for the same request (AppliedCalls): applied at most once either way.
        long backoff = Math.min(500, 20L << Math.min(attempt, 5));
        CompletableFuture.delayedExecutor(backoff, java.util.concurrent.TimeUnit.MILLISECONDS, Completions.EXECUTOR).execute(() ->
            write(stamped, attempt + 1).whenComplete((r, e) -> {
              if (e != null) {
                result.completeExceptionally(e);
              } else {
                result.complete(r);
              }
            }));
        return;
      }
      replaceAfterFailure(c, failure);
      result.completeExceptionally(translate(failure, true));
    }, Completions.EXECUTOR);
    return result;
  }

  /**
   * {@code command} with {@code Command.writer} and {@code write_seq} set: appended to its bytes
   * (a later field wins in protobuf), so the value is not copied into a new message.
   */
  static byte[] stamp(byte[] command, com.google.protobuf.ByteString writer, long seq) {
    int extra = com.google.protobuf.CodedOutputStream.computeBytesSize(Command.WRITER_FIELD_NUMBER, writer)
        + com.google.protobuf.CodedOutputStream.computeUInt64Size(Command.WRITE_SEQ_FIELD_NUMBER, seq);
    byte[] out = java.util.Arrays.copyOf(command, command.length + extra);
    com.google.protobuf.CodedOutputStream fields =
        com.google.protobuf.CodedOutputStream.newInstance(out, command.length, extra);
    try {
      fields.writeBytes(Command.WRITER_FIELD_NUMBER, writer);
      fields.writeUInt64(Command.WRITE_SEQ_FIELD_NUMBER, seq);
      fields.checkNoSpaceLeft();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // cannot happen: the space was computed
    }
    return out;
  }

  private static com.google.protobuf.ByteString newWriterId() {
    java.util.UUID id = java.util.UUID.randomUUID();
    return com.google.protobuf.ByteString.copyFrom(java.nio.ByteBuffer.allocate(16)
        .putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array());
  }

  /**
   * Failures a leader answers while it hands leadership over (see the resend in {@link #write}),
   * Ratis's own or its state machine's (a replica that lacks merged data refuses to lead).
   */
  private static boolean refusedBeforeAppend(Throwable failure) {
    Throwable t = Completions.unwrap(failure);
    return t instanceof org.apache.ratis.protocol.exceptions.LeaderSteppingDownException
        || (t instanceof StateMachineException
            && t.getCause() instanceof org.apache.ratis.protocol.exceptions.LeaderSteppingDownException);
  }

  /** A linearizable read served by the leader (lease or read index). */
  public CompletableFuture<QueryResult> read(Query query) {
    return readWithRetry(query, null, 0, 0);
  }

  /** A linearizable read served by the given replica once it applied the leader's read index. */
  public CompletableFuture<QueryResult> readOn(Query query, String nodeId) {
    return readWithRetry(query, RaftPeerId.valueOf(nodeId), 0, 0);
  }

  /**
   * Reads are idempotent, so every transient failure (no leader yet, read index refused during
   * an election) is retried with backoff, a bounded number of times; a state machine failure
   * is not.
   */
  private CompletableFuture<QueryResult> readWithRetry(Query query, RaftPeerId server, int attempt, int mismatches) {
    CompletableFuture<QueryResult> result = new CompletableFuture<>();
    RaftClient sentOn = client;
    // Completed on the completion threads, never on a Ratis thread (see write()).
    sentOn.async().sendReadOnlyUnordered(message(query.toByteArray()), server).whenCompleteAsync((reply, error) -> {
      Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
      if (failure == null) {
        leaderFound = true;
        try {
          result.complete(QueryResult.parseFrom(reply.getMessage().getContent().toByteArray()));
        } catch (InvalidProtocolBufferException e) {
          result.completeExceptionally(new FlotillaException(ErrorCode.INTERNAL,
              "range " + rangeId + " sent a malformed read result", e));
        }
        return;
      }
      Throwable cause = Completions.unwrap(failure);
      boolean mismatch = cause instanceof GroupMismatchException;
      if (mismatch) {
        replaceAfterFailure(sentOn, cause); // that peer does not host the group: try the next one
        if (server == null && mismatches + 1 >= 2 * group.getPeers().size()) {
          // Every peer in turn said so, twice over about a second of backoff (a group just
          // being created by a split gets that long): the range is gone from them.
          result.completeExceptionally(new RangeNotHostedException(rangeId,
              group.getPeers().stream().map(p -> p.getId().toString()).toList()));
          return;
        }
      }
      if (cause instanceof StateMachineException || attempt + 1 >= READ_ATTEMPTS) {
        result.completeExceptionally(translate(failure, false).getCause());
        return;
      }
      long backoff = Math.min(1000, 25L << Math.min(attempt, 6));
      CompletableFuture.delayedExecutor(backoff, java.util.concurrent.TimeUnit.MILLISECONDS, Completions.EXECUTOR).execute(() ->
          readWithRetry(query, server, attempt + 1, mismatch ? mismatches + 1 : 0).whenComplete((r, e) -> {
            if (e != null) {
              result.completeExceptionally(Completions.unwrap(e));
            } else {
              result.complete(r);
            }
          }));
    }, Completions.EXECUTOR);
    return result;
  }


  /**
   * Hands the range's leadership to {@code nodeId}: first makes it the replica with the highest
   * priority (Ratis only transfers to the highest, and a leader yields to a higher-priority
   * follower by itself, so the choice sticks), then asks the leader to transfer now.
   *
   * <p>The priorities are set on the members the group has, as {@code nodeId}'s replica knows
   * them, and only if the leader still has exactly those (compare and set): the descriptor this
   * client was built from can lag a replica move (the Raft membership changes first), and
   * setting it would undo the move. Refused while a membership change is under way.
   * Blocking: call it off request threads.
   */
  public void transferLeader(String nodeId, long timeoutMs) throws IOException {
    RaftClient c = client;
    RaftPeerId target = RaftPeerId.valueOf(nodeId);
    org.apache.ratis.proto.RaftProtos.RaftConfigurationProto conf = c.getGroupManagementApi(target)
        .info(group.getGroupId()).getConf()
        .orElseThrow(() -> new IOException("range " + rangeId + ": " + nodeId + " did not tell its configuration"));
    if (conf.getOldPeersCount() > 0) {
      throw new IOException("range " + rangeId + ": a membership change is under way; the leadership stays");
    }
    List<RaftPeer> current = org.apache.ratis.util.ProtoUtils.toRaftPeers(conf.getPeersList());
    if (current.stream().noneMatch(p -> p.getId().equals(target))) {
      throw new IOException("range " + rangeId + ": " + nodeId + " is not a member of the group " + current);
    }
    List<RaftPeer> preferred = current.stream().map(p -> RaftPeer.newBuilder(p)
        .setPriority(p.getId().equals(target) ? 1 : 0).build()).toList();
    boolean already = current.stream().allMatch(p -> p.getPriority() == (p.getId().equals(target) ? 1 : 0));
    if (!already) {
      RaftClientReply set = c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
          .setServersInCurrentConf(current).setServersInNewConf(preferred)
          .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build());
      if (!set.isSuccess()) {
        throw new IOException("range " + rangeId + ": setting " + nodeId + " as preferred leader failed: "
            + set.getException());
      }
    }
    RaftClientReply moved = c.admin().transferLeadership(target, timeoutMs);
    if (!moved.isSuccess()) {
      throw new IOException("range " + rangeId + ": leadership transfer to " + nodeId + " failed: "
          + moved.getException());
    }
  }

  /**
   * Changes the Raft group's voting members from exactly {@code current} to {@code next}
   * (compared by node id; refused when the group has other members, whoever changed them).
   * Ratis catches new members up first; a removed leader steps down once the change commits.
   * Blocking: call it off request threads.
   */
  public void changeMembers(List<RaftPeer> current, List<RaftPeer> next) throws IOException {
    RaftClientReply reply = client.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
        .setServersInCurrentConf(current).setServersInNewConf(next)
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build());
    if (!reply.isSuccess()) {
      throw new IOException("range " + rangeId + ": membership change from " + ids(current) + " to " + ids(next)
          + " failed: " + reply.getException());
    }
  }

  private static List<String> ids(List<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).toList();
  }

  /** The node id of the leader this client last talked to, or null if unknown. */
  public String leaderHint() {
    RaftPeerId leader = client.getLeaderId();
    return leader == null ? null : leader.toString();
  }

  public RaftGroup group() {
    return group;
  }

  /** Switches to a new membership (after a replica moved); in-flight calls finish on the old client. */
  public synchronized void updateGroup(RaftGroup newGroup) {
    if (!sameMembers(newGroup, group)) {
      RaftClient old = client;
      group = newGroup;
      RaftPeerId leader = old.getLeaderId();
      client = newClient(newGroup.getPeers().stream().anyMatch(p -> p.getId().equals(leader)) ? leader : null);
      // Calls in flight on the old client finish there: closing it now would fail them, and a
      // write failed that way has an unknown outcome. Close it once they are surely done.
      CLOSER.schedule(() -> closeQuietly(old), RETIRED_CLIENT_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private static boolean sameMembers(RaftGroup a, RaftGroup b) {
    return new java.util.HashSet<>(a.getPeers()).equals(new java.util.HashSet<>(b.getPeers()));
  }

  /**
   * Replaces a client whose calls failed for good. After a peer answered that it does not host
   * the group, the new client starts at the next peer; otherwise at the last leader it knew.
   * The old one is closed after a grace period: other calls may still be finishing on it.
   */
  private synchronized void replaceAfterFailure(RaftClient failed, Throwable failure) {
    if (client != failed) {
      return;
    }
    RaftPeerId target = failed.getLeaderId();
    if (Completions.unwrap(failure) instanceof GroupMismatchException) {
      List<RaftPeer> peers = new java.util.ArrayList<>(group.getPeers());
      int at = 0;
      for (int i = 0; i < peers.size(); i++) {
        if (peers.get(i).getId().equals(target)) {
          at = i;
        }
      }
      target = peers.isEmpty() ? null : peers.get((at + 1) % peers.size()).getId();
    }
    client = newClient(target);
    CLOSER.schedule(() -> closeQuietly(failed), RETIRED_CLIENT_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * Sends this range's next requests to {@code nodeId} first, which leads the range now as a
   * replica on this node learned. Ratis offers no way to move a client to another leader, so a
   * client that knew another leader is replaced (its calls in flight finish on it).
   */
  public synchronized void aimAt(String nodeId) {
    RaftPeerId target = RaftPeerId.valueOf(nodeId);
    RaftClient current = client;
    if (target.equals(current.getLeaderId()) || group.getPeers().stream().noneMatch(p -> p.getId().equals(target))) {
      return;
    }
    client = newClient(target);
    CLOSER.schedule(() -> closeQuietly(current), RETIRED_CLIENT_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Closes this client once calls in flight on it are surely done (the range went away). */
  public void closeLater() {
    RaftClient c = client;
    CLOSER.schedule(() -> closeQuietly(c), RETIRED_CLIENT_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
  }


  /** Longer than any request timeout: a replaced client's last calls have finished by then. */
  private static final long RETIRED_CLIENT_GRACE_SECONDS = 60;

  private static final java.util.concurrent.ScheduledExecutorService CLOSER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "range-client-closer");
    t.setDaemon(true);
    return t;
  });

  private CommandResult parseCommandResult(RaftClientReply reply) {
    return commandResult(rangeId, reply.getMessage());
  }

  /**
   * A range's answer to a write: its result, or an unknown outcome when the answer is unreadable
   * or says the range applied an earlier copy of the request and no longer has its result.
   */
  public static CommandResult commandResult(long rangeId, Message message) {
    CommandResult result;
    try {
      result = CommandResult.parseFrom(message.getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      // The command was applied; only its answer is unreadable, so the outcome is unknown.
      throw FlotillaException.outcomeUnknown("the write to range " + rangeId, e);
    }
    if (result.hasRejected() && result.getRejected().getReason() == io.flotilla.proto.Rejection.Reason.DUPLICATE) {
      // The range applied an earlier copy of this request and no longer has its answer.
      throw FlotillaException.outcomeUnknown("the write to range " + rangeId,
          new IllegalStateException(result.getRejected().getMessage()));
    }
    return result;
  }

  /** Maps a Ratis failure to an API error; writes that may have been applied become "outcome unknown". */
  private CompletionException translate(Throwable failure, boolean write) {
    Throwable t = Completions.unwrap(failure);
    if (t instanceof FlotillaException fe) {
      return new CompletionException(fe);
    }
    if (write && refusedBeforeAppend(t)) {
      // Refused by a leader handing over, resent until the attempts ran out: a copy sent
      // earlier (by Ratis's own retry) may still be in the log and apply.
      return new CompletionException(FlotillaException.outcomeUnknown("the write to range " + rangeId, t));
    }
    if (t instanceof StateMachineException) {
      return new CompletionException(new FlotillaException(ErrorCode.INTERNAL,
          "range " + rangeId + " failed to apply the request: " + t.getMessage(), t));
    }
    if (write) {
      return new CompletionException(FlotillaException.outcomeUnknown("the write to range " + rangeId, t));
    }
    String why = t instanceof IOException ? t.getClass().getSimpleName() + ": " + t.getMessage() : String.valueOf(t);
    return new CompletionException(new FlotillaException(ErrorCode.UNAVAILABLE,
        "range " + rangeId + " has no reachable leader right now (" + why + "); retry shortly",
        Map.of(), t));
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
  }

  private static void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (IOException | RuntimeException ignored) {
      // closing a client with calls in flight fails them; nothing else to do
    }
  }

  @Override
  public void close() {
    closeQuietly(client);
  }
}
