package io.flotilla.api.service;

import io.flotilla.client.RangeNotHostedException;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.ForwardFailure;
import io.flotilla.proto.ForwardedWrite;
import io.flotilla.proto.ForwardedWriteReplies;
import io.flotilla.proto.ForwardedWriteReply;
import io.flotilla.proto.ForwardedWrites;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.raft.NodeHost;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Takes every single-key write of a range to the node that leads the range, so that the
 * range's writes from all nodes batch together into one log entry there.
 *
 * <p>A {@link WriteBatcher} per node batches only the writes that node received; with the
 * writes of a range spread over three nodes, each batch held few. Here a put or delete that
 * arrives at a node not leading its range is forwarded once, over the Raft port, to the node
 * that does, and joins that node's batch. A range's writes bound for its leader travel
 * together: one message under way per range, and the writes that arrive meanwhile leave in the
 * next one, answered one by one. The leader's node proposes as it does its own writes
 * ({@link NodeHost#write}): in-process while it leads, through its range client, which finds
 * the new leader, when the range's leadership moved after the write was queued.
 *
 * <p>When nothing can have been proposed, the write goes the way it went before forwarding
 * existed, through this node's batcher and range client: no leader known, the leader's node
 * declines (it no longer leads the range, or no longer hosts it), or the write never left this
 * node. A forwarded write that left and got no answer, the leader's node dying with it in
 * flight, has an unknown outcome.
 */
final class LeaderWrites {
  /** Messages of one range to its leader's node under way before the next writes wait and batch. */
  static final int IN_FLIGHT = 1;
  /** The most writes one message carries. */
  static final int MAX_WRITES = 256;

  /** What this needs of the node: who leads a range, and the channel to the leader's node. */
  interface Node {
    String id();

    /** True when this node's replica leads the range. */
    boolean leads(long rangeId);

    /** The range's leader as this node knows it, if it knows one. */
    Optional<String> leaderOf(RangeDescriptor range);

    /** This node's descriptor of a range it hosts a replica of. */
    Optional<RangeDescriptor> descriptor(long rangeId);

    /** See {@link NodeHost#forwardWrites}. */
    CompletableFuture<ForwardedWriteReplies> forwardWrites(String nodeId, ForwardedWrites writes, long deadlineMillis);

    static Node of(NodeHost host) {
      return new Node() {
        @Override
        public String id() {
          return host.self().id();
        }

        @Override
        public boolean leads(long rangeId) {
          return host.leads(rangeId);
        }

        @Override
        public Optional<String> leaderOf(RangeDescriptor range) {
          return host.leaderOf(range);
        }

        @Override
        public Optional<RangeDescriptor> descriptor(long rangeId) {
          return host.replica(rangeId).map(io.flotilla.raft.RangeStateMachine::descriptor);
        }

        @Override
        public CompletableFuture<ForwardedWriteReplies> forwardWrites(String nodeId, ForwardedWrites writes,
            long deadlineMillis) {
          return host.forwardWrites(nodeId, writes, deadlineMillis);
        }
      };
    }
  }

  private final Node host;
  private final WriteBatcher batcher;
  private final LongAdder forwarded = new LongAdder();
  private final LongAdder declined = new LongAdder();
  private final LongAdder servedForPeers = new LongAdder();
  private final Lanes lanes;
  private final long maxMessageBytes;
  private final long deadlineMillis;
  private final boolean forward;

  /**
   * Counts since start: writes this node forwarded and had answered, forwarded writes that came
   * back declined (and went the node's own way), writes this node proposed for its peers, and
   * writes its queues (to forward or to propose) refused for want of room or dropped after
   * waiting too long.
   */
  record Counts(long forwarded, long declined, long servedForPeers, long refused, long expired) {}

  /**
   * @param maxMessageBytes the most bytes of writes one message to a leader's node carries
   *     (one write always goes, whatever its size)
   * @param deadlineMillis how long a forwarded message may go unanswered (the request timeout:
   *     the leader's node retries across an election within it)
   * @param limits how many writes, of how many bytes, wait how long for a range's leader (a
   *     write past them is refused as {@code overloaded}, nothing applied)
   */
  LeaderWrites(Node host, WriteBatcher batcher, long maxMessageBytes, long deadlineMillis, BatchLanes.Limits limits) {
    this(host, batcher, maxMessageBytes, deadlineMillis, limits, true);
  }

  /**
   * @param forward whether this node forwards its writes to the leaders' nodes (it serves the
   *     writes its peers forward either way)
   */
  LeaderWrites(Node host, WriteBatcher batcher, long maxMessageBytes, long deadlineMillis, BatchLanes.Limits limits,
      boolean forward) {
    this.lanes = new Lanes(limits);
    this.forward = forward;
    this.host = host;
    this.batcher = batcher;
    this.maxMessageBytes = maxMessageBytes;
    this.deadlineMillis = deadlineMillis;
  }

  /** Proposes a command of this node's own request to {@code range}. */
  CompletableFuture<CommandResult> write(RangeDescriptor range, Command command) {
    if (!forward || !forwardable(command) || host.leads(range.getId())) {
      return batcher.write(range, command);
    }
    Optional<String> leader = host.leaderOf(range).filter(id -> !id.equals(host.id()));
    if (leader.isEmpty()) {
      return batcher.write(range, command);
    }
    ForwardedWrite write = ForwardedWrite.newBuilder().setRange(range).setCommand(command).build();
    Pending p = new Pending(write, write.getSerializedSize(), lanes.now(), new CompletableFuture<>());
    lanes.submit(new LaneKey(leader.get(), range.getId()), p);
    return p.result();
  }

  /**
   * The refusal a put or delete of {@code bytes} to {@code range} would get now from the queue
   * {@link #write} would put it in, or null if that queue has room (see {@link BatchLanes#refusal}).
   */
  FlotillaException refusal(RangeDescriptor range, long bytes) {
    Optional<String> leader = !forward || host.leads(range.getId()) ? Optional.empty()
        : host.leaderOf(range).filter(id -> !id.equals(host.id()));
    return leader.isEmpty() ? batcher.refusal(range.getId(), bytes)
        : lanes.refusal(new LaneKey(leader.get(), range.getId()), bytes);
  }

  Counts counts() {
    return new Counts(forwarded.sum(), declined.sum(), servedForPeers.sum(),
        lanes.refusedCount() + batcher.refusedCount(), lanes.expiredCount() + batcher.expiredCount());
  }

  /** Serves writes another node forwarded here: proposes each whose range this node leads. */
  CompletableFuture<ForwardedWriteReplies> serve(ForwardedWrites writes) {
    List<CompletableFuture<ForwardedWriteReply>> replies = writes.getWritesList().stream().map(this::serveOne).toList();
    return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).thenApply(x -> {
      ForwardedWriteReplies.Builder all = ForwardedWriteReplies.newBuilder();
      replies.forEach(r -> all.addReplies(r.join()));
      return all.build();
    });
  }

  private CompletableFuture<ForwardedWriteReply> serveOne(ForwardedWrite forwarded) {
    long rangeId = forwarded.getRange().getId();
    // This node's own descriptor, never the sender's: the sender's routing may be stale, and
    // the range client follows the descriptor it is given. A stale epoch in the command is
    // refused by the range itself, with the current descriptor for the sender.
    Optional<RangeDescriptor> range = host.descriptor(rangeId);
    if (!forwardable(forwarded.getCommand()) || range.isEmpty() || !host.leads(rangeId)) {
      return CompletableFuture.completedFuture(declined("node " + host.id() + " does not lead range " + rangeId));
    }
    CompletableFuture<CommandResult> proposed;
    try {
      proposed = batcher.write(range.get(), forwarded.getCommand());
    } catch (RuntimeException e) {
      proposed = CompletableFuture.failedFuture(e);
    }
    return proposed.handle((result, error) -> {
      if (error == null) {
        servedForPeers.increment();
        return ForwardedWriteReply.newBuilder().setResult(result).build();
      }
      Throwable cause = error;
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof RangeNotHostedException) {
        // Raised before the range client sent anything (it probes a range it does not know).
        return declined("range " + rangeId + " is not hosted as routed: " + cause.getMessage());
      }
      servedForPeers.increment();
      FlotillaException known = cause instanceof FlotillaException f ? f
          : FlotillaException.outcomeUnknown("the forwarded write", cause);
      return ForwardedWriteReply.newBuilder().setFailed(ForwardFailure.newBuilder()
          .setCode(known.code().wireName()).setMessage(String.valueOf(known.getMessage()))).build();
    });
  }

  /** What the leader's node made of one forwarded write, as this node's answer to its caller. */
  private CompletableFuture<CommandResult> settle(Pending p, ForwardedWriteReply reply) {
    switch (reply.getOutcomeCase()) {
      case RESULT -> {
        forwarded.increment();
        return CompletableFuture.completedFuture(reply.getResult());
      }
      case FAILED -> {
        forwarded.increment();
        return CompletableFuture.failedFuture(failure(reply.getFailed()));
      }
      case DECLINED -> {
        declined.increment(); // nothing was proposed: go this node's own way
        return batcher.write(p.write().getRange(), p.write().getCommand());
      }
      default -> {
        // A reply this node cannot read (empty, or from a newer version) may stand for a proposal.
        return CompletableFuture.failedFuture(FlotillaException.outcomeUnknown("the forwarded write",
            new IllegalStateException("unreadable reply " + reply)));
      }
    }
  }

  private record Pending(ForwardedWrite write, long bytes, long queuedAtNanos,
      CompletableFuture<CommandResult> result) implements BatchLanes.Queued {
    @Override
    public void fail(Throwable error) {
      result.completeExceptionally(error);
    }
  }

  private record LaneKey(String node, long rangeId) {}

  /**
   * One range's writes bound for its leader's node: while {@link #IN_FLIGHT} messages are under
   * way, the writes that arrive wait and leave together in the next one. (One lane per range,
   * not per node: a message is answered when all its writes are, so a slow range, in an
   * election for instance, would hold up the writes of every other range led there.)
   */
  private final class Lanes extends BatchLanes<LaneKey, Pending> {
    Lanes(BatchLanes.Limits limits) {
      super(IN_FLIGHT, limits);
    }

    @Override
    protected List<Pending> take(LaneKey key, ArrayDeque<Pending> waiting) {
      List<Pending> batch = new ArrayList<>();
      long bytes = 0;
      while (!waiting.isEmpty() && batch.size() < MAX_WRITES) {
        long size = waiting.peek().bytes();
        if (!batch.isEmpty() && bytes + size > maxMessageBytes) {
          break;
        }
        batch.add(waiting.poll());
        bytes += size;
      }
      return batch;
    }

    @Override
    protected CompletableFuture<Answered<Pending>> send(LaneKey key, List<Pending> batch) {
      CompletableFuture<ForwardedWriteReplies> sent;
      try {
        ForwardedWrites.Builder message = ForwardedWrites.newBuilder();
        batch.forEach(p -> message.addWrites(p.write()));
        sent = host.forwardWrites(key.node(), message.build(), deadlineMillis);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(FlotillaException.outcomeUnknown("the forwarded write", e));
      }
      return sent.handle((replies, error) -> Answered.all(() -> answered(batch, replies, error)));
    }

    @Override
    protected FlotillaException full(LaneKey key, String why) {
      return new FlotillaException(ErrorCode.OVERLOADED, "range " + key.rangeId()
          + " has no room for more writes to its leader on this node (" + why + "); nothing was applied");
    }

    @Override
    protected FlotillaException expired(LaneKey key, long waitedMillis) {
      return new FlotillaException(ErrorCode.OVERLOADED, "the write waited " + waitedMillis
          + " ms behind other writes of range " + key.rangeId() + " to its leader and was not sent; nothing was applied");
    }
  }

  private void answered(List<Pending> batch, ForwardedWriteReplies replies, Throwable error) {
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      try {
        if (error != null) {
          p.result().completeExceptionally(error);
        } else if (replies.getRepliesCount() != batch.size()) {
          p.result().completeExceptionally(FlotillaException.outcomeUnknown("the forwarded write",
              new IllegalStateException(replies.getRepliesCount() + " replies to " + batch.size() + " writes")));
        } else {
          settle(p, replies.getReplies(i)).whenComplete((r, e) -> {
            if (e != null) {
              p.result().completeExceptionally(e);
            } else {
              p.result().complete(r);
            }
          });
        }
      } catch (RuntimeException e) {
        p.result().completeExceptionally(FlotillaException.outcomeUnknown("the forwarded write", e));
      }
    }
  }

  private static boolean forwardable(Command command) {
    return command.hasPut() || command.hasDelete();
  }

  private static ForwardedWriteReply declined(String why) {
    return ForwardedWriteReply.newBuilder().setDeclined(why).build();
  }

  /** The leader's node's failure as this node's; a code it does not know is an unknown outcome. */
  static FlotillaException failure(ForwardFailure failed) {
    for (ErrorCode code : ErrorCode.values()) {
      if (code.wireName().equals(failed.getCode())) {
        return new FlotillaException(code, failed.getMessage());
      }
    }
    return FlotillaException.outcomeUnknown("the forwarded write",
        new IllegalStateException(failed.getCode() + ": " + failed.getMessage()));
  }
}
