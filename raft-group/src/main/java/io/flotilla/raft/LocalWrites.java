package io.flotilla.raft;

import io.flotilla.client.Completions;
import io.flotilla.client.RangeClient;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Writes a node proposes to ranges its own replicas lead, handed to the local Ratis server as
 * client requests: no Ratis client, no loopback gRPC stream, no request and reply serialized
 * twice. The leader's node proposes every batch of its ranges' writes (its own and those its
 * peers forward), so this is the write path of nearly every put.
 *
 * <p>The node proposes under one Raft client id of its own, with call ids that grow in the
 * order the calls enter each range's log (one submission at a time per range), which is what
 * the ranges' at-most-once table expects ({@code AppliedCalls}).
 *
 * <p>A call is never sent twice. When one fails, the replica tells whether it had entered the
 * log ({@link RangeStateMachine#preAppendTransaction}):
 * <ul>
 *   <li>it had not (the replica no longer led, or was not ready yet): nothing can apply it, and
 *       the write goes through the range's client, which finds the leader; refused for want of
 *       room in the range's queues, it fails as overloaded (nothing applied);
 *   <li>it had, and then the replica stopped leading: the entry commits with the next leader
 *       or is dropped. Once this replica applied its index, the entry committed there tells
 *       which (the same term: applied, and answered with its result; another: dropped, and
 *       the write goes through the range's client). If the replica cannot tell within the
 *       request timeout, the outcome is unknown.
 * </ul>
 */
final class LocalWrites {
  private final RaftServer server;
  private final ClientId writer;
  private final AtomicLong callIds = new AtomicLong();
  private final long settleMillis;
  /** The node's calls that entered a leader's log, by call id, noted by the replicas ({@link RangeStateMachine#preAppendTransaction}). */
  private final Map<Long, TransactionContext> appends;

  /**
   * @param writer the Raft client id the node's in-process writes carry (its replicas know it)
   * @param appends where the node's replicas note the writer's calls as they enter the log
   * @param settleMillis how long a caller waits for a call its replica appended and then lost
   *     the lead over to apply, before it reports an unknown outcome
   */
  LocalWrites(RaftServer server, ClientId writer, Map<Long, TransactionContext> appends, long settleMillis) {
    this.server = server;
    this.writer = writer;
    this.appends = appends;
    this.settleMillis = settleMillis;
  }

  /**
   * Proposes {@code command} through {@code replica}, which leads its range as far as the caller
   * knows; {@code elsewhere} proposes it another way when it never entered this replica's log.
   */
  CompletableFuture<CommandResult> write(RangeStateMachine replica, RaftGroupId group, Command command,
      Supplier<CompletableFuture<CommandResult>> elsewhere) {
    byte[] bytes = command.toByteArray();
    // Submitted on the completion threads: Ratis blocks the submitting thread until its client
    // executor took the request, and request threads must not wait on Ratis.
    return CompletableFuture.supplyAsync(() -> submit(replica, group, bytes), Completions.EXECUTOR)
        .thenCompose(sent -> sent.reply().handleAsync(
            (reply, error) -> settle(replica, sent.callId(), reply, error, elsewhere), Completions.EXECUTOR))
        .thenCompose(result -> result);
  }

  private record Sent(long callId, CompletableFuture<RaftClientReply> reply) {}

  private Sent submit(RangeStateMachine replica, RaftGroupId group, byte[] command) {
    // One submission at a time per range: call ids enter the range's log in the order taken.
    synchronized (replica.localWriteOrder()) {
      long callId = callIds.incrementAndGet();
      RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(writer).setServerId(server.getId())
          .setGroupId(group).setCallId(callId).setRepliedCallIds(replica.takeAnsweredLocalCalls()).setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(command)))
          .setType(RaftClientRequest.writeRequestType()).build();
      CompletableFuture<RaftClientReply> reply;
      try {
        reply = server.submitClientRequestAsync(request);
      } catch (IOException | RuntimeException e) {
        reply = CompletableFuture.failedFuture(e);
      }
      return new Sent(callId, reply);
    }
  }

  private CompletableFuture<CommandResult> settle(RangeStateMachine replica, long callId, RaftClientReply reply,
      Throwable error, Supplier<CompletableFuture<CommandResult>> elsewhere) {
    TransactionContext appended = appends.remove(callId);
    Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
    if (failure == null) {
      replica.answeredLocally(callId);
      return result(replica, reply.getMessage());
    }
    Throwable cause = Completions.unwrap(failure);
    if (appended == null) {
      // Refused before it entered the log: nothing can apply it. Refused for want of room in
      // the range's queues, it is the caller's to retry later; otherwise the replica no longer
      // leads (or is not ready yet), and the range's client finds the leader.
      return cause instanceof ResourceUnavailableException
          ? CompletableFuture.failedFuture(new FlotillaException(ErrorCode.OVERLOADED,
              "range " + replica.rangeId() + " has no room for more writes; nothing was applied", cause))
          : elsewhere.get();
    }
    LogEntryProto entry = appended.getLogEntry();
    if (cause instanceof StateMachineException) {
      // Refused by the state machine on its way into the log (too large, for one).
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.INTERNAL,
          "range " + replica.rangeId() + " failed to take the request: " + cause.getMessage(), cause));
    }
    if (entry == null) {
      // Noted on its way into the log, with no index to look it up by.
      return CompletableFuture.failedFuture(FlotillaException.outcomeUnknown("the write to range " + replica.rangeId(), cause));
    }
    // In the log, then the replica stopped leading (or shut down): the entry commits with the
    // next leader or is dropped, and this replica follows that leader's log.
    return replica.fateOf(callId, TermIndex.valueOf(entry.getTerm(), entry.getIndex()))
        .orTimeout(settleMillis, TimeUnit.MILLISECONDS)
        .handleAsync((fate, e) -> {
          if (e != null || (fate.reply() == null && !fate.dropped())) {
            replica.stopAwaiting(callId);
            return CompletableFuture.<CommandResult>failedFuture(
                FlotillaException.outcomeUnknown("the write to range " + replica.rangeId(), cause));
          }
          return fate.dropped() ? elsewhere.get() : result(replica, fate.reply());
        }, Completions.EXECUTOR)
        .thenCompose(result -> result);
  }

  private static CompletableFuture<CommandResult> result(RangeStateMachine replica, Message message) {
    try {
      return CompletableFuture.completedFuture(RangeClient.commandResult(replica.rangeId(), message));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

}
